class OutOfStock(Exception):
    pass


LEVELS = {"sku-1": 3}


def reserve(sku, quantity, note):
    if LEVELS.get(sku, 0) < quantity:
        raise OutOfStock("cannot reserve %d of %s (%s)" % (quantity, sku, note))
    LEVELS[sku] -= quantity
    return "reserved"

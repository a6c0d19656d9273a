class PaymentDeclined(Exception):
    pass


def charge(order_id, card_number, note):
    if card_number.startswith("4000"):
        raise PaymentDeclined("order %d declined (%s)" % (order_id, note))
    return "paid order %d" % order_id

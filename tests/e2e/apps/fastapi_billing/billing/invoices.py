class TemplateMissing(Exception):
    pass


def render(invoice_id, note):
    raise TemplateMissing("no template for invoice %d (%s)" % (invoice_id, note))

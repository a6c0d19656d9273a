class TransferRejected(Exception):
    pass


def transfer(account, amount):
    if amount > 1000:
        raise TransferRejected("payout of %d to %s rejected" % (amount, account))
    return "sent"

class UnbalancedLedger(Exception):
    pass


def settle(account):
    debit, credit = 120, 100
    if debit != credit:
        raise UnbalancedLedger("account %s is off by %d" % (account, debit - credit))

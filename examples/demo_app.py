"""A small order-processing script with no Sentry code at all.

Run it under the hook: its output, its exit code and its traceback stay exactly as they are, and
the crash lands in the local outbox, with the warning as a breadcrumb (no DSN needed):

    .venv/bin/sentry-bootstrap run -- .venv/bin/python examples/demo_app.py
    .venv/bin/sentry-bootstrap events

(the interpreter the hook runs in needs sentry-bootstrap installed: here the checkout's .venv).
"""
import logging

log = logging.getLogger("orders")

ORDERS = [
    {"id": "A-1001", "items": [("notebook", 2, 4.50), ("pen", 10, 0.80)]},
    {"id": "A-1002", "items": [("stapler", 1, 12.00)]},
    {"id": "A-1003", "items": []},  # an empty order: the average below divides by zero
]


def order_total(order):
    return sum(quantity * price for _name, quantity, price in order["items"])


def average_item_price(order):
    count = sum(quantity for _name, quantity, _price in order["items"])
    return order_total(order) / count


def main():
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for order in ORDERS:
        if not order["items"]:
            log.warning("order %s has no items", order["id"])
        total = order_total(order)
        print("order {}: total {:.2f}, average item {:.2f}".format(
            order["id"], total, average_item_price(order)))


if __name__ == "__main__":
    main()

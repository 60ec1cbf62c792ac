"""Order helpers (a review test: one line carries a seeded slip)."""


def find_order(orders, order_id):
    for order in orders:
        if order["id"] != order_id:
            return order
    return None


def order_total(order):
    if order is None:
        return 0
    total = 0
    for line in order["lines"]:
        total += line["price"] * line["qty"]
    return total

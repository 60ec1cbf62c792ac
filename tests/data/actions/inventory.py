"""Tiny inventory helpers."""


def total(items):
    t = 0
    for i in items:
        t = t + i["price"] * i["qty"]
    return t


def names(items):
    out = []
    for i in range(len(items)):
        out.append(items[i]["name"])
    return out

"""Prime numbers, for the `make demo` walkthrough."""


def is_prime(n: int) -> bool:
    """Return True when n is a prime number."""
    if n < 2:
        return False
    for d in range(2, int(n**0.5) + 1):
        if n % d == 0:
            return False
    return True


def primes_below(limit: int) -> list[int]:
    """Return every prime smaller than limit, in increasing order."""
    return 

# examples/remote/functions.py
from riffle_sdk import make_lambda_handler, map_function, process


@map_function("shout")
def shout(word):
    return word.upper()


@map_function("shout_all", batch=True)  # vectorized: one call per batch, a list in, a list out
def shout_all(words):
    return [w.upper() for w in words]


@process("count")
def count(key, state, word):
    n = (state or 0) + 1  # the state is riffle's: None for a new key
    return n, [{"word": key, "n": n}]


handler = make_lambda_handler()  # on AWS Lambda: the handler "functions.handler"

"""Errors that carry who is to blame and, when serving, which HTTP status to answer."""


class UserError(Exception):
    """The input (data, hyperparameters, configuration) is wrong; the message says how to fix it."""


class RequestError(UserError):
    """A request that cannot be answered; `status` is the HTTP status to send back."""

    status = 400


class UnsupportedMediaType(RequestError):
    status = 415


class NotAcceptable(RequestError):
    status = 406


class PayloadTooLarge(RequestError):
    status = 413

"""Requests as a client sends them, for the serving tests."""


def post(client, body, content_type="text/csv", accept=None):
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    return client.post("/invocations", data=body, headers=headers)

"""The web side: pages for staff (server-rendered Jinja2) and the JSON API under /api.

Thin, like the command line: a route translates a request into an engine call or a read
through `processes.read_policy`, and a result into a page or JSON.
"""

"""Closed-loop readers for benchmarks/run.py: no think time, one page per request.

BENCH_TARGET picks the page: `api` (GET /api/v1/engagements/ with a token),
`portfolio` (GET / with a session cookie) or `engagement` (the page of engagement
BENCH_ENGAGEMENT, with the session). run.py sets the credentials.
"""

import os

from locust import FastHttpUser, constant, task

TARGETS = {
    "api": ("/api/v1/engagements/", {"Authorization": f"Token {os.environ.get('BENCH_TOKEN')}"}),
    "portfolio": ("/", {"Cookie": f"sessionid={os.environ.get('BENCH_SESSION')}"}),
    "engagement": (
        f"/engagements/{os.environ.get('BENCH_ENGAGEMENT')}/",
        {"Cookie": f"sessionid={os.environ.get('BENCH_SESSION')}"},
    ),
}
PATH, HEADERS = TARGETS[os.environ.get("BENCH_TARGET", "api")]


class Reader(FastHttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        self.client.get(PATH, headers=HEADERS, name=PATH)

"""voisinage serve under many connections at once. A CTest test of its own that runs alone (RUN_SERIAL): the
HTTP library checks each idle connection about ninety times a second, so a thousand of them keep both cores
busy, and another test running meanwhile would slow both down."""

import resource
import socket
import time
from pathlib import Path

import harness
from test_serve import ServeTest, setUpModule, tearDownModule  # noqa: F401 (the shared example town)


class LoadTest(ServeTest):
    def test_a_thousand_idle_connections(self):
        """1,000 clients connect and say nothing; a normal request made right after must still be answered within
        a few seconds. The connections are opened in small batches (the kernel's listen queue is bounded) and
        counted in the server's /proc entry; --timeout 10 keeps them all open until the request."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < 2200:
            self.skipTest(f"needs 2,200 file descriptors, the limit is {soft}")
        server = self.serve("--timeout", "10")
        descriptors = Path(f"/proc/{server.pid}/fd")
        if not descriptors.is_dir():
            self.skipTest("needs /proc to see the server's connections")
        self.assertHealthy()  # the server's own files are open: what is added next is connections
        base = len(list(descriptors.iterdir()))
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        for batch in range(20):
            idle.extend(socket.create_connection((server.host, server.port), timeout=5) for _ in range(50))
            deadline = time.monotonic() + 2
            while len(list(descriptors.iterdir())) < base + len(idle) and time.monotonic() < deadline:
                time.sleep(0.005)
        accepted = len(list(descriptors.iterdir())) - base
        self.assertGreater(accepted, 900, "the server did not accept the idle connections")
        started = time.monotonic()
        try:
            response = server.request("GET", "/api/v1/health", timeout=5)
        except (socket.timeout, TimeoutError, ConnectionError) as e:
            self.fail(f"with 1,000 idle connections open, GET /api/v1/health failed after "
                      f"{time.monotonic() - started:.1f} s: {e!r}")
        self.assertEqual(response.status, 200, response)
        self.assertLess(time.monotonic() - started, 3)



if __name__ == "__main__":
    harness.main()

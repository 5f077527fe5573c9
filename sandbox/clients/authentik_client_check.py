"""Published-client cross-check: the Authentik simulator's answers parsed by the official
`authentik-client` 2026.2.2 models (pydantic; a missing required field or a wrong type raises).

Usage: python authentik_client_check.py SANDBOX_BIN  (run by scripts/test through
`cargo test -p webide-sandbox --test published_clients`, which installs the client).
Starts the sandbox on free ports, creates a user, a group with the user, an application,
reads them back through the typed API, and fails on any contract violation the sandbox
recorded (GET /_sandbox/contract).
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import authentik_client as ak

TOKEN = "webide-authentik-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ports = {name: free_port() for name in ("litellm", "authentik", "gitea", "coder")}
    args = [sys.argv[1]] + [a for n, p in ports.items() for a in (f"--{n}-port", str(p))]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{ports['authentik']}"
    try:
        deadline = time.monotonic() + 120  # the documents load first (seconds, debug build)
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/health/live/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the sandbox did not start ({proc.returncode})")
                time.sleep(0.2)
        conf = ak.Configuration(host=f"{base}/api/v3", access_token=TOKEN)
        with ak.ApiClient(conf) as client:
            core = ak.CoreApi(client)
            user = core.core_users_create(ak.UserRequest(username="ann", name="Ann Example"))
            group = core.core_groups_create(ak.GroupRequest(name="devs", users=[user.pk]))
            core.core_groups_add_user_create(group.pk, ak.UserAccountRequest(pk=user.pk))
            users = core.core_users_list(username="ann")
            assert [u.username for u in users.results] == ["ann"], users
            groups = core.core_groups_list(name="devs", include_users=True)
            assert groups.results[0].users_obj[0].username == "ann", groups
            core.core_users_retrieve(user.pk)
            core.core_groups_retrieve(group.pk)
            app = core.core_applications_create(ak.ApplicationRequest(name="IDE", slug="ide"))
            core.core_applications_retrieve(app.slug)
            core.core_applications_list()
            ak.AdminApi(client).admin_version_retrieve()
            core.core_groups_remove_user_create(group.pk, ak.UserAccountRequest(pk=user.pk))
            core.core_applications_destroy(app.slug)
            core.core_groups_destroy(group.pk)
            core.core_users_destroy(user.pk)
        report = json.load(urllib.request.urlopen(f"{base}/_sandbox/contract"))
        if report["violations"]:
            print(json.dumps(report["violations"], indent=1), file=sys.stderr)
            return 1
        print(f"authentik-client {ak.__version__}: {report['checked']} exchanges parsed and checked")
        return 0
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())

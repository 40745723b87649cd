"""voisinage serve: the JSON API under /api/v1 and Open311 GeoReport v2 under /open311/v2, over real HTTP against
the real server on a free loopback port, while the CLI keeps working on the same file.

Each test starts its own server on its own copy of the example town (examples/thomery.yaml, two residents and
tokens for them and for staff), talks to it with the standard library only, and stops it with SIGTERM: the
server must exit 0, must never have answered 5xx, and must never have said "database is locked"."""

import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import unittest
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import harness

PARIS = ZoneInfo("Europe/Paris")
SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator in examples/thomery.yaml
MARIE = "marie.lefevre@mairie-thomery.example.fr"  # townhall
# Text a naive server would interpret: SQL, HTML, a LIKE pattern, quotes, a backslash, an entity, an accent.
UNSAFE = ("<script>alert(\"x\")</script> <img src=x onerror=alert(1)> '; DROP TABLE grievance; -- \" OR 1=1 -- "
          "%_ \\ &amp; é")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")  # Open311: W3C datetime with the zone
TOKEN = re.compile(r"^vsn_[23456789a-km-zA-HJ-NP-Z]{32}$")
ACCESS_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 (GET|POST) (/\S*) (\d{3}) \d+\.\dms$")
JSON_TYPE = "application/json; charset=utf-8"

# GeoReport v2 (https://wiki.open311.org/GeoReport_v2): the fields of each response.
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
# The active grievance categories of examples/thomery.yaml and their groups (encombrants_rdv is inactive).
CATEGORIES = {
    "voirie": ("Voirie et trottoirs", "Espace public", "Services techniques", 30),
    "eclairage_public": ("Éclairage public", "Espace public", "Services techniques", 14),
    "signalisation": ("Signalisation et marquage au sol", "Espace public", "Services techniques", 21),
    "mobilier_urbain": ("Mobilier urbain (bancs, abribus, barrières)", "Espace public", "Services techniques", 45),
    "proprete": ("Propreté des rues", "Propreté", "Services techniques", 7),
    "depots_sauvages": ("Dépôts sauvages", "Propreté", "Services techniques", 10),
    "collecte_dechets": ("Collecte des déchets et bacs", "Propreté",
                         "Communauté d'agglomération du Pays de Fontainebleau — collecte des déchets", 14),
    "graffitis": ("Graffitis et affichage sauvage", "Propreté", "Services techniques", 21),
    "espaces_verts": ("Espaces verts, arbres et haies", "Environnement", "Service des espaces verts", 30),
    "eau_assainissement": ("Eau, assainissement et eaux pluviales", "Environnement",
                           "Service eau et assainissement", 15),
    "stationnement": ("Stationnement gênant", "Sécurité", "Police municipale", 7),
    "bruit": ("Nuisances sonores", "Sécurité", "Police municipale", 10),
    "animaux": ("Animaux errants ou dangereux", "Vie locale", "Police municipale", 7),
}

_NO_BODY = object()


def _raise_fd_limit():
    """1,000 idle connections need more than the usual 1,024 descriptors, here and in the server (inherited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in ("VOISINAGE_DB", "VOISINAGE_MODERATOR")}


def _cli(db, *args):
    completed = subprocess.run([harness.BINARY, "--db", str(db)] + [str(a) for a in args], capture_output=True,
                               text=True, env=_clean_env(), timeout=60)
    if completed.returncode != 0:
        raise RuntimeError(f"voisinage {' '.join(map(str, args))}: {harness.Result(completed)}")
    return completed.stdout


# `init` takes more than half a second: the example town, its residents and their tokens are made once, and each
# test gets its own copy of that file.
TEMPLATE = {}


def setUpModule():
    _raise_fd_limit()
    directory = Path(tempfile.mkdtemp(prefix="voisinage-serve-template-"))
    try:
        _make_template(directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # tearDownModule does not run when this fails
        raise


def _make_template(directory):
    db = directory / "town.db"
    _cli(db, "init", "--from", harness.EXAMPLES / "thomery.yaml")
    members = {
        "lucie": json.loads(_cli(db, "member", "add", "--name", "Lucie Bernard", "--neighbourhood", "centre-bourg",
                                 "--email", "lucie.bernard@example.fr", "--json"))["id"],
        "paul": json.loads(_cli(db, "member", "add", "--name", "Paul Martin", "--neighbourhood", "by",
                                "--json"))["id"],
    }
    with sqlite3.connect(db) as conn:
        for key, email in (("marie", MARIE), ("sandrine", SANDRINE)):
            members[key] = conn.execute("SELECT id FROM member WHERE email = ?", (email,)).fetchone()[0]
    conn.close()
    tokens = {key: _cli(db, "token", "create", "--member", member_id, "--label", f"tests {key}").strip()
              for key, member_id in members.items()}
    TEMPLATE.update(dir=directory, db=db, members=members, tokens=tokens)


def tearDownModule():
    if TEMPLATE:
        shutil.rmtree(TEMPLATE["dir"], ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def xml(self):
        return ET.fromstring(self.body)

    def __repr__(self):
        return f"HTTP {self.status} {self.headers}\n{self.body[:1500]!r}"


class Server:
    """`voisinage --db DB serve --listen 127.0.0.1:0 ARGS...`, its URL read from its first line of output."""

    def __init__(self, test, args):
        self.test = test
        self.exchanges = []  # (method, path, status, body) of every response received through request()
        self.stderr_path = test.dir / f"serve-{len(list(test.dir.glob('serve-*.err')))}.err"
        argv = [harness.BINARY, "--db", str(test.db), "serve", "--listen", "127.0.0.1:0"] + [str(a) for a in args]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=test.dir, stdout=subprocess.PIPE, stderr=err, env=_clean_env())
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline().decode() if ready else ""
        match = re.fullmatch(r"serving on (http://(127\.0\.0\.1):(\d+)) \(Ctrl-C to stop\)\n", line)
        if not match:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"serve printed {line!r}; stderr: {self.stderr()}")
        self.url, self.host, self.port = match[1], match[2], int(match[3])

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig` (once) and returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"the server did not stop within {timeout} s of signal {sig}")
        self.proc.stdout.close()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None, token=None, json_body=_NO_BODY, form=None,
                params=None, timeout=10):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not _NO_BODY:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if isinstance(body, str):
            body = body.encode()
        if params:
            path += "?" + urllib.parse.urlencode(params)
        headers.setdefault("Connection", "close")  # an idle keep-alive connection would delay the stop
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            response = Response(answer.status, answer.getheaders(), answer.read())
        finally:
            conn.close()
        self.exchanges.append((method, path, response.status, response.body))
        return response

    def raw(self, data, timeout=10, wait=True):
        """Sends bytes on a fresh connection and returns what came back until the server closed it (b'' when it
        closed or reset without answering)."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            received = b""
            try:
                while wait:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            return received


class ServeTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        with sqlite3.connect(TEMPLATE["db"]) as source, sqlite3.connect(self.db) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        self.members = dict(TEMPLATE["members"])
        self.tokens = dict(TEMPLATE["tokens"])
        self.server = None

    # ---- the server

    def serve(self, *args, limits=False):
        """Starts a server (rate limits off unless `limits`) that the test's cleanup stops and checks."""
        if not limits:
            args = ("--client-rate", "0", "--token-rate", "0") + args
        server = Server(self, args)
        self.addCleanup(self.assertStoppedCleanly, server)
        self.server = server
        return server

    def assertStoppedCleanly(self, server):
        code = server.stop()
        err = server.stderr()
        self.assertEqual(code, 0, err)
        self.assertIn("voisinage: stopping", err)
        for alarming in ("database is locked", "internal error", "database error", "terminate", "Assertion"):
            self.assertNotIn(alarming, err)
        for method, path, status, body in server.exchanges:
            self.assertLess(status, 500, f"{method} {path[:200]} answered {status}: {body[:300]!r}")
            self.assertNotIn(str(self.dir).encode(), body, f"{method} {path[:200]} leaks a file path")

    def get(self, path, **kwargs):
        return self.server.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.server.request("POST", path, **kwargs)

    def assertHealthy(self, server=None):
        response = (server or self.server).request("GET", "/api/v1/health", timeout=5)
        self.assertEqual(response.status, 200, response)

    # ---- assertions on responses

    def assertJson(self, response, status):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.header("Content-Type"), JSON_TYPE, response)
        return response.json()

    def assertApiError(self, response, status, code):
        """The API's error shape, {"error": {"code", "message"}}; returns the message."""
        body = self.assertJson(response, status)
        self.assertEqual(set(body), {"error"}, response)
        self.assertEqual(set(body["error"]), {"code", "message"}, response)
        self.assertEqual(body["error"]["code"], code, response)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"], response)
        if status == 401:
            self.assertEqual(response.header("WWW-Authenticate"), "Bearer", response)
        return body["error"]["message"]

    def assertOpen311Error(self, response, status, xml=False):
        """GeoReport v2 errors: [{"code": "400", "description": "..."}], codes as strings; in XML
        <errors><error><code>400</code><description>...</description></error></errors>."""
        self.assertEqual(response.status, status, response)
        if xml:
            self.assertTrue(response.header("Content-Type").startswith("text/xml"), response)
            root = response.xml()
            self.assertEqual(root.tag, "errors")
            self.assertEqual([e.tag for e in root], ["error"])
            self.assertEqual(root[0].findtext("code"), str(status))
            description = root[0].findtext("description")
        else:
            self.assertEqual(response.header("Content-Type"), JSON_TYPE, response)
            body = response.json()
            self.assertIsInstance(body, list)
            self.assertEqual(len(body), 1, body)
            self.assertEqual(set(body[0]), {"code", "description"})
            self.assertEqual(body[0]["code"], str(status))  # a string, never a number
            description = body[0]["description"]
        self.assertIsInstance(description, str)
        self.assertTrue(description)
        return description

    # ---- fixtures made through the CLI and the API

    def new_post(self, body, token="lucie", status=201, **fields):
        response = self.post("/api/v1/posts", token=self.tokens[token], json_body={"body": body, **fields})
        return self.assertJson(response, status)["post"]

    def feed_ids(self, slug="centre-bourg", token="lucie", **params):
        response = self.get(f"/api/v1/neighbourhoods/{slug}/posts", token=self.tokens[token], params=params)
        return [p["id"] for p in self.assertJson(response, 200)["posts"]]

    def grievance(self, *args, category="voirie", title="Nid-de-poule", description="Un trou dans la chaussée"):
        """`grievance add` through the CLI; returns the reference."""
        return self.ok("grievance", "add", "--category", category, "--title", title, "--description",
                       description, *args, "--json").json()["grievance"]["reference"]

    def member(self, name, role="resident", neighbourhood="effondre"):
        """A new member and a token for them: (id, token)."""
        args = ["member", "add", "--name", name, "--role", role, "--json"]
        if neighbourhood:
            args += ["--neighbourhood", neighbourhood]
        member_id = self.ok(*args).json()["id"]
        return member_id, self.ok("token", "create", "--member", member_id).out.strip()

    def future(self, days=30):
        return (date.today() + timedelta(days=days)).isoformat()


# ================================================================================================= /api/v1


class ApiTest(ServeTest):
    def test_health_town_and_neighbourhoods_need_no_token(self):
        self.serve()
        response = self.get("/api/v1/health")
        health = self.assertJson(response, 200)
        self.assertEqual(response.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(response.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(set(health), {"status", "schema_version", "time"})
        self.assertEqual((health["status"], health["schema_version"]),
                         ("ok", self.query("PRAGMA user_version")[0][0]))
        self.assertRegex(health["time"], ISO_Z)
        served_at = datetime.strptime(health["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        self.assertLess(abs(served_at - datetime.now(timezone.utc)), timedelta(minutes=1))

        town = {"name": "Thomery", "insee": "77463", "postcodes": ["77810"], "timezone": "Europe/Paris", "url": ""}
        self.assertEqual(self.assertJson(self.get("/api/v1/town"), 200), town)
        self.ok("town", "set", "--url", "https://voisinage.thomery.example.fr")  # while serving
        self.assertEqual(self.assertJson(self.get("/api/v1/town"), 200),
                         dict(town, url="https://voisinage.thomery.example.fr"))

        listed = self.assertJson(self.get("/api/v1/neighbourhoods"), 200)
        self.assertEqual(set(listed), {"neighbourhoods"})
        self.assertEqual(sorted(listed["neighbourhoods"], key=lambda n: n["slug"]), [
            {"slug": "bord-de-seine", "name": "Bord de Seine et port de Thomery", "postcodes": ["77810"],
             "members": 0},
            {"slug": "by", "name": "By (hameau de Rosa Bonheur)", "postcodes": ["77810"], "members": 1},
            {"slug": "centre-bourg", "name": "Centre-bourg", "postcodes": ["77810"], "members": 1},
            {"slug": "effondre", "name": "Effondré", "postcodes": ["77810"], "members": 0},
            {"slug": "les-treilles", "name": "Les Treilles (murs à chasselas)", "postcodes": ["77810"],
             "members": 0},
        ])
        self.ok("neighbourhood", "archive", "les-treilles")
        self.assertNotIn("les-treilles",
                         [n["slug"] for n in self.get("/api/v1/neighbourhoods").json()["neighbourhoods"]])

    def test_posts_replies_and_the_feed(self):
        self.serve()
        lucie = self.members["lucie"]
        response = self.post("/api/v1/posts", token=self.tokens["lucie"], json_body={
            "kind": "request", "subkind": "lend", "title": "Perceuse", "body": "Qui me prête une perceuse ?"})
        outcome = self.assertJson(response, 201)
        self.assertEqual(set(outcome), {"post", "verdict", "rules", "case_id"})
        self.assertEqual((outcome["verdict"], outcome["rules"], outcome["case_id"]), ("published", [], None))
        post = outcome["post"]
        self.assertEqual(set(post), {"id", "neighbourhood", "author", "kind", "subkind", "title", "body", "status",
                                     "locked", "replies", "created_at", "updated_at"})
        self.assertEqual(post["author"], {"id": lucie, "display_name": "Lucie Bernard", "role": "resident"})
        self.assertEqual((post["neighbourhood"], post["kind"], post["subkind"], post["title"], post["body"],
                          post["status"], post["locked"], post["replies"]),
                         ("centre-bourg", "request", "lend", "Perceuse", "Qui me prête une perceuse ?", "visible",
                          False, 0))
        self.assertRegex(post["created_at"], ISO_Z)
        self.assertEqual(self.query("SELECT n.slug, p.author_id, p.kind, p.subkind, p.title, p.body, p.status "
                                    "FROM post p JOIN neighbourhood n ON n.id = p.neighbourhood_id WHERE p.id = ?",
                                    post["id"]),
                         [("centre-bourg", lucie, "request", "lend", "Perceuse", "Qui me prête une perceuse ?",
                           "visible")])

        event = self.new_post("Vide-grenier", kind="event", event_at="2031-06-21", event_place="Place de l'église")
        self.assertEqual(event["event"], {"at": "2031-06-21T00:00:00Z", "place": "Place de l'église"})
        untyped = self.new_post("Sans type")
        self.assertEqual(untyped["kind"], "discussion")
        announcement = self.new_post("Travaux rue de By", token="marie", kind="announcement", neighbourhood="by")
        self.assertEqual((announcement["neighbourhood"], announcement["author"]["role"]), ("by", "townhall"))

        shown = self.assertJson(self.get(f"/api/v1/posts/{post['id']}", token=self.tokens["paul"]), 200)
        self.assertEqual(shown, dict(post, replies=[]))

        response = self.post(f"/api/v1/posts/{post['id']}/replies", token=self.tokens["paul"],
                             json_body={"body": "Je vous la prête ce soir", "title": "ignoré"})
        reply = self.assertJson(response, 201)["post"]
        self.assertEqual((reply["kind"], reply["parent_id"], reply["neighbourhood"], reply["body"], reply["title"]),
                         ("reply", post["id"], "centre-bourg", "Je vous la prête ce soir", ""))
        self.assertEqual(self.query("SELECT parent_id, author_id FROM post WHERE id = ?", reply["id"]),
                         [(post["id"], self.members["paul"])])
        shown = self.assertJson(self.get(f"/api/v1/posts/{post['id']}", token=self.tokens["lucie"]), 200)
        self.assertEqual(shown["replies"], [reply])

        feed = self.assertJson(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["paul"]), 200)
        self.assertEqual(set(feed), {"neighbourhood", "posts", "next_cursor"})
        self.assertEqual(feed["neighbourhood"], "centre-bourg")
        self.assertIsNone(feed["next_cursor"])
        # Newest first, replies are not posts of the feed, other neighbourhoods' posts are not in it.
        self.assertEqual([p["id"] for p in feed["posts"]], [untyped["id"], event["id"], post["id"]])
        self.assertEqual(feed["posts"][-1], dict(post, replies=1))
        self.assertEqual(self.feed_ids("by"), [announcement["id"]])

        self.assertApiError(self.get("/api/v1/neighbourhoods/centre-bourg/posts"), 401, "missing_token")
        self.assertApiError(self.get(f"/api/v1/posts/{post['id']}"), 401, "missing_token")
        self.assertApiError(self.post("/api/v1/posts", json_body={"body": "x"}), 401, "missing_token")

    def test_cursor_pagination_has_no_duplicate_and_no_gap(self):
        self.serve()
        created = [self.new_post(f"Annonce numéro {i}")["id"] for i in range(45)]
        for i in range(3):
            self.new_post(f"Ailleurs {i}", token="paul")

        def walk(limit=None):
            pages, cursor = [], None
            while True:
                params = {}
                if limit is not None:
                    params["limit"] = limit
                if cursor is not None:
                    params["cursor"] = cursor
                page = self.assertJson(self.get("/api/v1/neighbourhoods/centre-bourg/posts",
                                                token=self.tokens["paul"], params=params), 200)
                pages.append([p["id"] for p in page["posts"]])
                cursor = page["next_cursor"]
                if cursor is None:
                    return pages
                self.assertIsInstance(cursor, str)
                self.assertLess(len(pages), 50, "the cursor never ends")

        for limit, sizes in ((None, [20, 20, 5]), (7, [7] * 6 + [3]), (45, [45]), (100, [45]), (1, [1] * 45)):
            with self.subTest(limit=limit):
                pages = walk(limit)
                self.assertEqual([len(p) for p in pages], sizes)
                ids = [i for page in pages for i in page]
                self.assertEqual(ids, sorted(created, reverse=True))  # every post once, newest first

        # A post published between two pages does not shift the next page.
        first = self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["lucie"]).json()
        newer = self.new_post("Publié entre deux pages")["id"]
        second = self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["lucie"],
                          params={"cursor": first["next_cursor"]}).json()
        self.assertEqual([p["id"] for p in second["posts"]], sorted(created, reverse=True)[20:40])
        self.assertNotIn(newer, [p["id"] for p in first["posts"] + second["posts"]])

        for limit in ("0", "101", "-1", "abc", "", "1e1"):
            with self.subTest(limit=limit):
                self.assertApiError(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["lucie"],
                                             params={"limit": limit}), 400, "invalid_parameter")

    def test_hidden_post_leaves_the_feed_on_the_next_request(self):
        self.serve()
        first, second, third = (self.new_post(text)["id"] for text in ("Premier", "Deuxième", "Troisième"))
        self.assertEqual(self.feed_ids(), [third, second, first])
        # The moderator's CLI writes to the same file while the server runs.
        self.ok("mod", "hide", f"post:{second}", "--reason", "spam", "--as", SANDRINE)
        self.assertEqual(self.feed_ids(), [third, first])
        self.assertEqual(self.feed_ids(token="paul"), [third, first])
        self.assertApiError(self.get(f"/api/v1/posts/{second}", token=self.tokens["paul"]), 404, "not_found")
        self.assertEqual(self.assertJson(self.get(f"/api/v1/posts/{second}", token=self.tokens["lucie"]),
                                         200)["status"], "hidden")  # its author still sees it
        self.assertEqual(self.assertJson(self.get(f"/api/v1/posts/{second}", token=self.tokens["sandrine"]),
                                         200)["status"], "hidden")  # and so do staff
        self.ok("mod", "remove", f"post:{third}", "--reason", "spam", "--as", SANDRINE)
        self.assertEqual(self.feed_ids(), [first])
        self.ok("mod", "restore", f"post:{second}", "--reason", "other", "--as", SANDRINE)
        self.assertEqual(self.feed_ids(), [second, first])

        reply = self.assertJson(self.post(f"/api/v1/posts/{first}/replies", token=self.tokens["paul"],
                                          json_body={"body": "Une réponse"}), 201)["post"]["id"]
        self.assertEqual([r["id"] for r in self.get(f"/api/v1/posts/{first}", token=self.tokens["lucie"])
                          .json()["replies"]], [reply])
        self.ok("mod", "hide", f"post:{reply}", "--reason", "harassment", "--as", SANDRINE)
        self.assertEqual(self.get(f"/api/v1/posts/{first}", token=self.tokens["lucie"]).json()["replies"], [])

    def test_word_rules_hold_block_flag_and_censor(self):
        self.serve()
        before = self.query("SELECT count(*) FROM post")[0][0]
        response = self.post("/api/v1/posts", token=self.tokens["lucie"],
                             json_body={"body": "Payez-moi par PayPal, merci"})
        held = self.assertJson(response, 202)
        self.assertEqual(set(held), {"post", "verdict", "rules", "case_id", "message"})
        self.assertEqual((held["verdict"], held["rules"], held["message"], held["post"]["status"]),
                         ("held", ["paypal"], "en attente de modération", "held"))
        self.assertIsInstance(held["case_id"], int)
        held_id = held["post"]["id"]
        self.assertEqual(self.query("SELECT status FROM post WHERE id = ?", held_id), [("held",)])
        self.assertNotIn(held_id, self.feed_ids())
        self.assertApiError(self.get(f"/api/v1/posts/{held_id}", token=self.tokens["paul"]), 404, "not_found")
        self.assertEqual(self.get(f"/api/v1/posts/{held_id}", token=self.tokens["lucie"]).status, 200)

        message = self.assertApiError(self.post("/api/v1/posts", token=self.tokens["lucie"],
                                                json_body={"body": "Quel CONNARD ce voisin"}), 422, "blocked")
        self.assertIn("'connard'", message)
        self.assertEqual(self.query("SELECT count(*) FROM post")[0][0], before + 1)  # only the held one

        self.ok("mod", "rules", "add", "trottinette", "--action", "block")  # a rule added while serving
        message = self.assertApiError(self.post("/api/v1/posts", token=self.tokens["lucie"],
                                                json_body={"body": "Je vends ma trottinette"}), 422, "blocked")
        self.assertIn("'trottinette'", message)
        first = self.new_post("Premier")["id"]
        message = self.assertApiError(self.post(f"/api/v1/posts/{first}/replies", token=self.tokens["paul"],
                                                json_body={"body": "espèce de connard"}), 422, "blocked")
        self.assertIn("'connard'", message)

        flagged = self.assertJson(self.post("/api/v1/posts", token=self.tokens["lucie"],
                                            json_body={"body": "C'est urgent"}), 201)
        self.assertEqual((flagged["verdict"], flagged["rules"], flagged["post"]["status"]),
                         ("flagged", ["urgent*"], "visible"))
        self.assertIsInstance(flagged["case_id"], int)
        censored = self.assertJson(self.post("/api/v1/posts", token=self.tokens["lucie"],
                                             json_body={"body": "Cette putain de voiture"}), 201)
        self.assertEqual((censored["verdict"], censored["rules"]), ("censored", ["putain"]))
        self.assertNotIn("putain", censored["post"]["body"])
        self.assertEqual(self.query("SELECT body FROM post WHERE id = ?", censored["post"]["id"]),
                         [(censored["post"]["body"],)])

    def test_a_silenced_member_cannot_post_but_can_read(self):
        self.serve()
        first = self.new_post("Bonjour")["id"]
        paul = self.members["paul"]
        self.ok("mod", "silence", paul, "--reason", "harassment", "--until", self.future(), "--as", SANDRINE)
        self.assertApiError(self.post("/api/v1/posts", token=self.tokens["paul"], json_body={"body": "Coucou"}),
                            403, "forbidden")
        self.assertApiError(self.post(f"/api/v1/posts/{first}/replies", token=self.tokens["paul"],
                                      json_body={"body": "Coucou"}), 403, "forbidden")
        self.assertEqual(self.query("SELECT count(*) FROM post WHERE author_id = ?", paul), [(0,)])
        self.assertEqual(self.feed_ids(token="paul"), [first])
        self.assertEqual(self.get(f"/api/v1/posts/{first}", token=self.tokens["paul"]).status, 200)
        self.ok("mod", "unsuspend", paul, "--reason", "other", "--as", SANDRINE)
        self.new_post("Me revoilà", token="paul")

    def test_a_suspended_member_is_refused_on_every_authenticated_call(self):
        self.serve()
        first = self.new_post("Bonjour")["id"]
        reference = self.grievance()
        self.ok("mod", "suspend", self.members["paul"], "--reason", "spam", "--until", self.future(), "--as",
                SANDRINE)
        token = self.tokens["paul"]
        calls = [
            ("GET", "/api/v1/neighbourhoods/by/posts", None),
            ("GET", f"/api/v1/posts/{first}", None),
            ("POST", "/api/v1/posts", {"body": "Coucou"}),
            ("POST", f"/api/v1/posts/{first}/replies", {"body": "Coucou"}),
            ("POST", "/api/v1/reports", {"target": f"post:{first}", "reason": "spam"}),
            ("POST", "/api/v1/grievances", {"category": "voirie", "title": "Trou", "description": "Un trou"}),
            ("GET", f"/api/v1/grievances/{reference}", None),
        ]
        for method, path, body in calls:
            with self.subTest(method=method, path=path):
                kwargs = {"json_body": body} if body is not None else {}
                self.assertApiError(self.server.request(method, path, token=token, **kwargs), 403,
                                    "account_suspended")
        self.assertOpen311Error(self.post("/open311/v2/requests.json", form={
            "api_key": token, "service_code": "voirie", "lat": "48.4079", "long": "2.7882"}), 403)
        self.assertEqual(self.get(f"/api/v1/grievances/{reference}").status, 200)  # without a token: public
        self.assertEqual(self.query("SELECT count(*) FROM post WHERE author_id = ?", self.members["paul"]), [(0,)])

        self.ok("mod", "ban", self.members["lucie"], "--reason", "scam", "--as", SANDRINE)
        self.assertApiError(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["lucie"]),
                            403, "account_suspended")
        gone, gone_token = self.member("Parti")
        self.assertEqual(self.get("/api/v1/neighbourhoods/effondre/posts", token=gone_token).status, 200)
        self.ok("member", "remove", gone)
        self.assertApiError(self.get("/api/v1/neighbourhoods/effondre/posts", token=gone_token), 403,
                            "member_removed")

    def test_tokens_create_list_and_revoke(self):
        self.serve()
        lucie = self.members["lucie"]
        created = self.ok("token", "create", "--member", lucie, "--label", "appli", "--json").json()
        self.assertEqual(set(created), {"id", "member", "member_name", "member_role", "label", "created_at",
                                        "expires_at", "revoked_at", "status", "token"})
        self.assertEqual((created["member"], created["member_name"], created["label"], created["expires_at"],
                          created["revoked_at"], created["status"]),
                         (lucie, "Lucie Bernard", "appli", None, None, "active"))
        secret = created["token"]
        self.assertRegex(secret, TOKEN)
        plain = self.ok("token", "create", "--member", lucie)
        self.assertRegex(plain.out, r"^vsn_\w{32}\n$")  # the token alone on stdout, the explanation on stderr
        self.assertNotIn("vsn_", plain.err)
        # Stored hashed: the secret is nowhere in the database files.
        self.ok("db", "check")
        for path in self.dir.glob("town.db*"):
            self.assertNotIn(secret.encode(), path.read_bytes(), path)

        self.assertEqual(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=secret).status, 200)
        listed = self.ok("token", "list", "--member", lucie, "--json")
        self.assertNotIn("vsn_", listed.out)
        self.assertEqual([(t["label"], t["status"]) for t in listed.json()],
                         [("", "active"), ("appli", "active"), ("tests lucie", "active")])
        self.assertNotIn("vsn_", self.ok("token", "list").out)

        self.ok("token", "revoke", created["id"])
        self.assertApiError(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=secret), 401,
                            "token_revoked")
        self.assertApiError(self.post("/api/v1/posts", token=secret, json_body={"body": "x"}), 401, "token_revoked")
        revoked = [t for t in self.ok("token", "list", "--json").json() if t["id"] == created["id"]][0]
        self.assertEqual(revoked["status"], "revoked")
        self.assertRegex(revoked["revoked_at"], ISO_Z)
        self.assertEqual(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=self.tokens["lucie"]).status,
                         200)  # her other tokens still work
        self.fails("token", "revoke", created["id"], message="already revoked")

    def test_expired_token(self):
        """`--expires` counts in minutes at least, too long to wait for: the token is made with 1m, then its expiry
        is moved into the past in the file, as if the minute had gone by."""
        self.serve()
        created = self.ok("token", "create", "--member", self.members["lucie"], "--expires", "1m", "--json").json()
        created_at = datetime.strptime(created["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(datetime.strptime(created["expires_at"], "%Y-%m-%dT%H:%M:%SZ") - created_at,
                         timedelta(minutes=1))
        self.assertEqual(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=created["token"]).status, 200)
        with sqlite3.connect(self.db) as conn:
            conn.execute("UPDATE api_token SET expires_at = ? WHERE id = ?",
                         ((created_at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), created["id"]))
        conn.close()
        self.assertApiError(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=created["token"]), 401,
                            "token_expired")
        self.assertOpen311Error(self.post("/open311/v2/requests.json", form={
            "api_key": created["token"], "service_code": "voirie", "address_string": "1 rue de By"}), 403)
        self.assertEqual([t["status"] for t in self.ok("token", "list", "--json").json()
                          if t["id"] == created["id"]], ["expired"])

    def test_join_with_an_invitation_code(self):
        self.serve()
        code = self.ok("invite", "create", "--neighbourhood", "centre-bourg", "--format", "json").json()[0]["code"]
        members_before = self.query("SELECT count(*) FROM member")[0][0]
        response = self.post("/api/v1/join", json_body={"code": code, "display_name": "Zoé Roux",
                                                         "email": "zoe.roux@example.fr"})
        joined = self.assertJson(response, 201)
        self.assertEqual(set(joined), {"member", "token"})
        self.assertEqual(set(joined["member"]), {"id", "display_name", "neighbourhood"})
        self.assertEqual((joined["member"]["display_name"], joined["member"]["neighbourhood"]),
                         ("Zoé Roux", "centre-bourg"))
        self.assertRegex(joined["token"], TOKEN)
        member_id = joined["member"]["id"]
        self.assertEqual(self.query("SELECT m.display_name, m.email, m.role, n.slug FROM member m "
                                    "JOIN neighbourhood n ON n.id = m.neighbourhood_id WHERE m.id = ?", member_id),
                         [("Zoé Roux", "zoe.roux@example.fr", "resident", "centre-bourg")])
        self.assertEqual(self.query("SELECT used_by FROM invitation"), [(member_id,)])

        token = joined["token"]
        self.assertEqual(self.get("/api/v1/neighbourhoods/centre-bourg/posts", token=token).status, 200)
        post = self.assertJson(self.post("/api/v1/posts", token=token, json_body={"body": "Bonjour à tous"}), 201)
        self.assertEqual((post["post"]["author"]["id"], post["post"]["neighbourhood"]), (member_id, "centre-bourg"))

        self.assertApiError(self.post("/api/v1/join", json_body={"code": code, "display_name": "Encore"}), 422,
                            "invalid")
        self.assertApiError(self.post("/api/v1/join", json_body={"code": "ABCD-EFGH", "display_name": "Inconnu"}),
                            422, "invalid")
        self.assertApiError(self.post("/api/v1/join", json_body={"code": code}), 400, "missing_field")
        self.assertEqual(self.query("SELECT count(*) FROM member")[0][0], members_before + 1)

    def test_reports(self):
        self.serve()
        post = self.new_post("Vends des montres de luxe")["id"]
        response = self.post("/api/v1/reports", token=self.tokens["paul"], json_body={
            "target": f"post:{post}", "reason": "scam", "details": "Annonce douteuse"})
        report = self.assertJson(response, 201)
        self.assertEqual(set(report), {"report", "status"})
        self.assertEqual(report["status"], "received")
        self.assertEqual(self.query("SELECT reporter_id, reason, details FROM report WHERE id = ?", report["report"]),
                         [(self.members["paul"], "scam", "Annonce douteuse")])
        member = self.assertJson(self.post("/api/v1/reports", token=self.tokens["paul"], json_body={
            "target": f"member:{self.members['lucie']}", "reason": "harassment"}), 201)
        self.assertEqual(self.query("SELECT reason FROM report WHERE id = ?", member["report"]), [("harassment",)])
        legal = self.assertJson(self.post("/api/v1/reports", token=self.tokens["marie"], json_body={
            "target": str(post), "reason": "illegal", "details": "Contrefaçon", "notifier_name": "Marie Lefèvre",
            "notifier_email": MARIE, "good_faith": True}), 201)
        self.assertEqual(self.query("SELECT notifier_name, good_faith FROM report WHERE id = ?", legal["report"]),
                         [("Marie Lefèvre", 1)])

        before = self.snapshot()
        for body, status, code in (
                ({"target": f"post:{post}", "reason": "spam"}, 422, "invalid"),  # her own post
                ({"target": "post:999999", "reason": "spam"}, 404, "not_found"),
                ({"target": f"post:{post}", "reason": "bof"}, 422, "invalid"),
                ({"target": f"post:{post}", "reason": "illegal", "details": "x"}, 422, "invalid"),
                ({"reason": "spam"}, 400, "missing_field"),
                ({"target": f"post:{post}", "reason": "spam", "good_faith": "oui"}, 400, "invalid_field")):
            with self.subTest(body=body):
                self.assertApiError(self.post("/api/v1/reports", token=self.tokens["lucie"], json_body=body), status,
                                    code)
        self.assertUnchanged(before)

    def test_directory(self):
        self.serve()
        self.assertEqual(self.assertJson(self.get("/api/v1/directory"), 200), {"entries": [], "next_offset": None})
        self.ok("import", "merchants", harness.EXAMPLES / "registries" / "sirene_thomery.csv")  # while serving
        entries = self.assertJson(self.get("/api/v1/directory", params={"q": "epicerie"}), 200)["entries"]
        self.assertEqual([e["name"] for e in entries], ["ÉPICERIE DU CŒUR"])  # accent- and case-insensitive
        entry = entries[0]
        self.assertNotIn("content_hash", entry)
        self.assertEqual((entry["kind"], entry["registry_key"], entry["activity_code"], entry["neighbourhood"]),
                         ("merchant", "79345162600014", "47.11C", "centre-bourg"))
        total = self.query("SELECT count(*) FROM directory_entry WHERE kind = 'merchant' AND status = 'active'")[0][0]
        merchants = self.get("/api/v1/directory", params={"kind": "merchant", "limit": 100}).json()["entries"]
        self.assertEqual(len(merchants), total)
        self.assertEqual({e["kind"] for e in merchants}, {"merchant"})
        self.assertEqual(self.get("/api/v1/directory", params={"kind": "association"}).json(),
                         {"entries": [], "next_offset": None})
        self.assertEqual(len(self.get("/api/v1/directory", params={"limit": 2}).json()["entries"]), 2)
        # Page by page, two at a time: every entry once, in the same order as in one page.
        paged, offset = [], 0
        while offset is not None:
            page = self.get("/api/v1/directory", params={"kind": "merchant", "limit": 2, "offset": offset}).json()
            paged += page["entries"]
            offset = page["next_offset"]
        self.assertEqual([e["id"] for e in paged], [e["id"] for e in merchants])
        self.assertApiError(self.get("/api/v1/directory", params={"offset": "-1"}), 400, "invalid_parameter")
        self.assertEqual(len(self.get("/api/v1/directory").json()["entries"]), min(total, 20))
        self.assertApiError(self.get("/api/v1/directory", params={"kind": "shop"}), 400, "invalid_parameter")
        self.assertApiError(self.get("/api/v1/directory", params={"limit": "0"}), 400, "invalid_parameter")
        self.assertApiError(self.get("/api/v1/directory", params={"q": "x" * 201}), 400, "invalid_parameter")
        for query in ("'; DROP TABLE directory_entry; --", "\" OR 1=1 --", "%", "* OR *", "NEAR(a b)"):
            with self.subTest(q=query):
                response = self.get("/api/v1/directory", params={"q": query})
                self.assertIn(response.status, (200, 400, 422), response)
                if response.status == 200:
                    self.assertLess(len(response.json()["entries"]), total)  # never "everything"
        self.assertEqual(self.query("SELECT count(*) FROM directory_entry WHERE kind = 'merchant' AND "
                                    "status = 'active'")[0][0], total)

    def test_grievance_post_then_get_by_reference(self):
        self.serve()
        response = self.post("/api/v1/grievances", token=self.tokens["lucie"], json_body={
            "category": "voirie", "title": "Nid-de-poule", "description": "Un trou devant le 14",
            "address": "14 rue de la République", "postcode": "77810", "lat": 48.407954, "lon": 2.7882})
        added = self.assertJson(response, 201)
        self.assertEqual(set(added), {"grievance", "warnings"})
        self.assertIsInstance(added["warnings"], list)
        grievance = added["grievance"]
        self.assertNotIn("contact", grievance)
        self.assertNotIn("reporter", grievance)
        reference = grievance["reference"]
        self.assertRegex(reference, r"^DOL-\d{4}-\d{6}$")
        self.assertEqual((grievance["category"], grievance["title"], grievance["channel"], grievance["status"],
                          grievance["lat"], grievance["lon"], grievance["service"]),
                         ("voirie", "Nid-de-poule", "app", "new", 48.407954, 2.7882, "Services techniques"))
        self.assertEqual(self.query("SELECT reporter_id, channel, description, address FROM grievance "
                                    "WHERE reference = ?", reference),
                         [(self.members["lucie"], "app", "Un trou devant le 14", "14 rue de la République")])

        # Received at the counter, with a resident's contact data; answered publicly, with an internal note.
        counter = self.grievance("--contact-name", "Jean Dupont", "--contact-email", "jean.dupont@example.fr",
                                 "--contact-phone", "0601020304", "--address", "3 place Greffulhe",
                                 category="eclairage_public", title="Lampadaire éteint")
        self.ok("grievance", "respond", counter, "Nous passons lundi.")
        self.ok("grievance", "status", counter, "in_progress", "--note", "Note interne : commande d'ampoule")
        public = self.assertJson(self.get(f"/api/v1/grievances/{counter}"), 200)
        for private in ("contact", "reporter", "assignee"):
            self.assertNotIn(private, public)
        for secret in ("Jean Dupont", "jean.dupont@example.fr", "0601020304", "+33601020304", "Note interne"):
            self.assertNotIn(secret, self.get(f"/api/v1/grievances/{counter}").text)
            self.assertNotIn(secret, self.get(f"/api/v1/grievances/{counter}", token=self.tokens["paul"]).text)
        self.assertEqual((public["reference"], public["status"], public["status_label"], public["title"]),
                         (counter, "in_progress", public["status_label"], "Lampadaire éteint"))
        self.assertIsInstance(public["status_label"], str)
        self.assertTrue(public["status_label"])
        self.assertEqual([(e["kind"], e["new_status"], e["note"]) for e in public["events"]],
                         [("created", "new", ""), ("status", "open", "Nous passons lundi.")])
        for event in public["events"]:
            self.assertNotIn("actor", event)
            self.assertTrue(event["public"])

        staff = self.assertJson(self.get(f"/api/v1/grievances/{counter}", token=self.tokens["marie"]), 200)
        self.assertEqual(staff["contact"], {"name": "Jean Dupont", "email": "jean.dupont@example.fr",
                                            "phone": "+33601020304"})
        self.assertIn("Note interne : commande d'ampoule", [e["note"] for e in staff["events"]])
        self.assertTrue(all("actor" in e for e in staff["events"]))
        self.assertEqual(self.assertJson(self.get(f"/api/v1/grievances/{reference}", token=self.tokens["sandrine"]),
                                         200)["reporter"]["member"], self.members["lucie"])

        self.assertApiError(self.post("/api/v1/grievances", token=self.tokens["lucie"], json_body={
            "category": "voirie", "title": "Trou"}), 400, "missing_field")
        self.assertApiError(self.post("/api/v1/grievances", token=self.tokens["lucie"], json_body={
            "category": "voirie", "title": "Trou", "description": "x", "lat": "48.4"}), 400, "invalid_field")
        self.assertApiError(self.post("/api/v1/grievances", token=self.tokens["lucie"], json_body={
            "category": "nulle_part", "title": "Trou", "description": "x"}), 422, "invalid")
        self.assertApiError(self.post("/api/v1/grievances", json_body={
            "category": "voirie", "title": "Trou", "description": "x"}), 401, "missing_token")

    def test_hidden_and_private_grievances_by_reference(self):
        self.serve()
        hidden = self.grievance(title="Injurieux")
        self.ok("grievance", "status", hidden, "hidden", "--note", "propos injurieux")
        private = self.grievance("--private", "--reporter", self.members["lucie"], title="Voisin bruyant")
        for reference, readers, refused in (
                (hidden, ("marie", "sandrine"), (None, "lucie", "paul")),
                (private, ("lucie", "marie"), (None, "paul"))):
            for reader in readers:
                with self.subTest(reference=reference, reader=reader):
                    self.assertEqual(self.assertJson(self.get(f"/api/v1/grievances/{reference}",
                                                              token=self.tokens[reader]), 200)["reference"], reference)
            for reader in refused:
                with self.subTest(reference=reference, reader=reader):
                    token = self.tokens[reader] if reader else None
                    self.assertApiError(self.get(f"/api/v1/grievances/{reference}", token=token), 404, "not_found")


# =============================================================================================== Open311


class Open311Test(ServeTest):
    BASE = "/open311/v2"

    def o311(self, path, **kwargs):
        return self.get(self.BASE + path, **kwargs)

    def submit(self, fmt="json", **form):
        return self.post(f"{self.BASE}/requests.{fmt}", form=form)

    def assertXml(self, response, root):
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("Content-Type"), "text/xml; charset=utf-8")
        self.assertTrue(response.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), response)
        parsed = response.xml()
        self.assertEqual(parsed.tag, root)
        return parsed

    def test_discovery_without_a_town_url_names_the_address_the_client_used(self):
        server = self.serve()
        endpoint = self.assertJson(self.o311("/discovery.json"), 200)["endpoints"][0]
        self.assertEqual(endpoint["url"], f"http://{server.host}:{server.port}/open311/v2")

    def test_discovery(self):
        self.serve()
        self.ok("town", "set", "--url", "https://voisinage.thomery.example.fr")
        discovery = self.assertJson(self.o311("/discovery.json"), 200)
        self.assertEqual(set(discovery), DISCOVERY_FIELDS)
        self.assertRegex(discovery["changeset"], ISO_Z)
        self.assertIn("Thomery", discovery["contact"])
        self.assertIsInstance(discovery["key_service"], str)
        self.assertEqual(len(discovery["endpoints"]), 1)
        endpoint = discovery["endpoints"][0]
        self.assertEqual(set(endpoint), ENDPOINT_FIELDS)
        self.assertEqual(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2")
        self.assertEqual(endpoint["url"], "https://voisinage.thomery.example.fr/open311/v2")
        self.assertIn(endpoint["type"], ("production", "test"))
        self.assertEqual(sorted(endpoint["formats"]), ["application/json", "text/xml"])

        root = self.assertXml(self.o311("/discovery.xml"), "discovery")
        self.assertEqual({child.tag for child in root}, DISCOVERY_FIELDS)
        self.assertEqual(root.findtext("changeset"), discovery["changeset"])
        self.assertEqual(root.findtext("contact"), discovery["contact"])
        endpoints = root.find("endpoints")
        self.assertEqual([e.tag for e in endpoints], ["endpoint"])
        xml_endpoint = endpoints[0]
        self.assertEqual({child.tag for child in xml_endpoint}, ENDPOINT_FIELDS)
        self.assertEqual(xml_endpoint.findtext("url"), endpoint["url"])
        self.assertEqual(xml_endpoint.findtext("specification"), endpoint["specification"])
        self.assertEqual(sorted(f.text for f in xml_endpoint.find("formats").findall("format")),
                         ["application/json", "text/xml"])

    def test_services_in_json_and_xml(self):
        self.serve()
        services = self.assertJson(self.o311("/services.json"), 200)
        self.assertIsInstance(services, list)
        self.assertEqual(sorted(s["service_code"] for s in services), sorted(CATEGORIES))  # active ones only
        for service in services:
            with self.subTest(service=service["service_code"]):
                self.assertEqual(set(service), SERVICE_FIELDS)
                name, group, _, sla = CATEGORIES[service["service_code"]]
                self.assertEqual((service["service_name"], service["group"]), (name, group))
                self.assertIs(service["metadata"], False)
                self.assertIn(service["type"], ("realtime", "batch", "blackbox"))
                for field in ("service_code", "service_name", "description", "keywords", "group"):
                    self.assertIsInstance(service[field], str)
                self.assertIn(str(sla), service["description"])

        root = self.assertXml(self.o311("/services.xml"), "services")
        self.assertEqual({child.tag for child in root}, {"service"})
        from_xml = {s.findtext("service_code"): s for s in root}
        self.assertEqual(sorted(from_xml), sorted(CATEGORIES))
        for service in services:
            element = from_xml[service["service_code"]]
            self.assertEqual({child.tag for child in element}, SERVICE_FIELDS)
            self.assertEqual(element.findtext("metadata"), "false")
            for field in ("service_name", "description", "type", "group"):
                self.assertEqual(element.findtext(field), service[field])

    def test_service_definition(self):
        self.serve()
        self.assertEqual(self.assertJson(self.o311("/services/voirie.json"), 200),
                         {"service_code": "voirie", "attributes": []})
        root = self.assertXml(self.o311("/services/voirie.xml"), "service_definition")
        self.assertEqual(root.findtext("service_code"), "voirie")
        self.assertEqual(list(root.find("attributes")), [])
        for code in ("nulle_part", "encombrants_rdv"):  # unknown; inactive
            with self.subTest(code=code):
                self.assertOpen311Error(self.o311(f"/services/{code}.json"), 404)
                self.assertOpen311Error(self.o311(f"/services/{code}.xml"), 404, xml=True)

    def test_post_a_service_request(self):
        self.serve()
        key = self.tokens["paul"]
        response = self.submit(api_key=key, service_code="eclairage_public", lat="48.407954", long="2.7882",
                               address_string="14 rue de la République",
                               description="Lampadaire éteint\nDepuis lundi", first_name="Jean", last_name="Dupont",
                               email="jean.dupont@example.fr", phone="0601020304")
        created = self.assertJson(response, 201)
        self.assertIsInstance(created, list)
        self.assertEqual(len(created), 1)
        self.assertTrue({"service_request_id", "service_notice", "account_id"} <= set(created[0]) <=
                        {"service_request_id", "token", "service_notice", "account_id"}, created)
        reference = created[0]["service_request_id"]
        self.assertIsInstance(reference, str)
        self.assertRegex(reference, r"^DOL-\d{4}-\d{6}$")
        self.assertIsInstance(created[0]["service_notice"], str)
        self.assertEqual(self.query(
            "SELECT c.code, g.title, g.description, g.lat, g.lon, g.address, g.contact_name, g.contact_email, "
            "g.contact_phone, g.reporter_id, g.status FROM grievance g JOIN grievance_category c "
            "ON c.id = g.category_id WHERE g.reference = ?", reference),
            [("eclairage_public", "Lampadaire éteint", "Lampadaire éteint\nDepuis lundi", 48.407954, 2.7882,
              "14 rue de la République", "Jean Dupont", "jean.dupont@example.fr", "+33601020304", None, "new")])

        # Without contact data, the key's member is the reporter; an address alone is a location.
        xml = self.post(f"{self.BASE}/requests.xml", form={"api_key": key, "service_code": "voirie",
                                                           "address_string": "2 rue de By"})
        self.assertEqual(xml.status, 201, xml)
        root = xml.xml()
        self.assertEqual(root.tag, "service_requests")
        self.assertEqual([r.tag for r in root], ["request"])
        xml_reference = root[0].findtext("service_request_id")
        self.assertRegex(xml_reference, r"^DOL-\d{4}-\d{6}$")
        self.assertEqual(self.query("SELECT reporter_id, address, lat FROM grievance WHERE reference = ?",
                                    xml_reference), [(self.members["paul"], "2 rue de By", None)])
        self.assertEqual(self.assertJson(self.o311(f"/requests/{xml_reference}.json"), 200)[0]["address"],
                         "2 rue de By")

    def test_post_a_service_request_as_multipart_form_data_is_refused(self):
        """GeoReport v2 posts are form-encoded: a multipart body is refused with Open311's 400, nothing stored."""
        self.serve()
        before = self.snapshot()
        boundary = "----voisinage"
        parts = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in
                        (("api_key", self.tokens["paul"]), ("service_code", "bruit"), ("lat", "48.41"),
                         ("long", "2.78"), ("description", "Tapage nocturne")))
        response = self.post(f"{self.BASE}/requests.json", body=parts + f"--{boundary}--\r\n",
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        errors = self.assertJson(response, 400)
        self.assertEqual(errors[0]["code"], "400")
        self.assertIn("form-encoded", errors[0]["description"])
        self.assertUnchanged(before)

    def test_post_errors(self):
        self.serve()
        key = self.tokens["lucie"]
        revoked = self.ok("token", "create", "--member", self.members["lucie"], "--json").json()
        self.ok("token", "revoke", revoked["id"])
        before = self.snapshot()
        where = {"lat": "48.4079", "long": "2.7882"}
        cases = [
            ({"service_code": "voirie", **where}, 403),  # no api_key
            ({"api_key": "", "service_code": "voirie", **where}, 403),
            ({"api_key": "vsn_" + "x" * 32, "service_code": "voirie", **where}, 403),
            ({"api_key": "n'importe quoi", "service_code": "voirie", **where}, 403),
            ({"api_key": revoked["token"], "service_code": "voirie", **where}, 403),
            ({"api_key": key, "service_code": "nulle_part", **where}, 404),
            ({"api_key": key, "service_code": "encombrants_rdv", **where}, 404),  # inactive
            ({"api_key": key, **where}, 400),  # no service_code
            ({"api_key": key, "service_code": "voirie"}, 400),  # no location
            ({"api_key": key, "service_code": "voirie", "description": "Un trou"}, 400),
            ({"api_key": key, "service_code": "voirie", "lat": "48.4079"}, 400),  # lat without long
            ({"api_key": key, "service_code": "voirie", "lat": "nord", "long": "2.78"}, 400),
            ({"api_key": key, "service_code": "voirie", "lat": "nan", "long": "2.78"}, 400),
            ({"api_key": key, "service_code": "voirie", "description": "a" * 4001, **where}, 400),
        ]
        for form, status in cases:
            with self.subTest(form={k: v[:40] for k, v in form.items()}):
                self.assertOpen311Error(self.submit(**form), status)
                self.assertOpen311Error(self.submit("xml", **form), status, xml=True)
        # A JSON body is not a form.
        self.assertOpen311Error(self.post(f"{self.BASE}/requests.json", json_body={
            "api_key": key, "service_code": "voirie", **where}), 400)
        self.assertUnchanged(before)

    def test_description_of_4000_accented_characters(self):
        """GeoReport v2 allows 4,000 characters of description; French text url-encoded takes 6 bytes a letter
        (é is %C3%A9), far under the 64 KiB body limit."""
        self.serve()
        text = "é" * 3999 + "!"  # 4,000 characters, 7,999 bytes, 23,995 bytes url-encoded
        created = self.assertJson(self.submit(api_key=self.tokens["lucie"], service_code="voirie",
                                              address_string="1 rue de By", description=text), 201)
        self.assertEqual(self.query("SELECT description FROM grievance WHERE reference = ?",
                                    created[0]["service_request_id"]), [(text,)])
        self.assertEqual(self.o311(f"/requests/{created[0]['service_request_id']}.json").json()[0]["description"],
                         text)

    def test_service_requests_field_by_field(self):
        self.serve()
        full = self.grievance("--address", "14 rue de la République", "--postcode", "77810", "--lat", "48.407954",
                              "--lon", "2.7882", "--contact-name", "Jean Dupont", "--contact-email",
                              "jean.dupont@example.fr", "--contact-phone", "0601020304",
                              category="eclairage_public", title="Lampadaire", description="Lampadaire éteint")
        self.ok("grievance", "respond", full, "Nous passons lundi.")
        self.ok("grievance", "status", full, "in_review", "--note", "Note interne")
        expected_on = date.today() + timedelta(days=20)
        self.ok("grievance", "status", full, "planned", "--expected", expected_on.isoformat(), "--note",
                "Intervention planifiée", "--public")
        bare = self.grievance(category="bruit", title="Tapage", description="Tapage nocturne")
        closed = self.grievance(title="Trou", description="Trou rebouché depuis")
        self.ok("grievance", "status", closed, "open")
        self.ok("grievance", "status", closed, "resolved", "--note", "Rebouché.", "--public")

        listed = self.assertJson(self.o311("/requests.json"), 200)
        self.assertEqual([r["service_request_id"] for r in listed], [closed, bare, full])
        by_id = {r["service_request_id"]: r for r in listed}
        for request in listed:
            with self.subTest(request=request["service_request_id"]):
                self.assertEqual(set(request), REQUEST_FIELDS)
                for field in ("service_request_id", "status", "status_notes", "service_name", "service_code",
                              "description", "agency_responsible", "service_notice", "address", "address_id",
                              "zipcode", "media_url", "requested_datetime", "updated_datetime"):
                    self.assertIsInstance(request[field], str, field)
                self.assertRegex(request["requested_datetime"], W3C)
                self.assertRegex(request["updated_datetime"], W3C)
                self.assertIn(request["status"], ("open", "closed"))

        request = by_id[full]
        created_at, updated_at = self.query("SELECT created_at, updated_at FROM grievance WHERE reference = ?",
                                            full)[0]
        self.assertEqual(request, {
            "service_request_id": full, "status": "open", "status_notes": "Intervention planifiée",
            "service_name": "Éclairage public", "service_code": "eclairage_public",
            "description": "Lampadaire éteint", "agency_responsible": "Services techniques", "service_notice": "",
            "requested_datetime": self.paris(created_at), "updated_datetime": self.paris(updated_at),
            "expected_datetime": datetime(expected_on.year, expected_on.month, expected_on.day, tzinfo=PARIS)
            .isoformat(), "address": "14 rue de la République", "address_id": "", "zipcode": "77810",
            "lat": 48.407954, "long": 2.7882, "media_url": ""})
        self.assertEqual((by_id[bare]["status"], by_id[bare]["status_notes"], by_id[bare]["expected_datetime"],
                          by_id[bare]["lat"], by_id[bare]["long"], by_id[bare]["agency_responsible"]),
                         ("open", "", None, None, None, "Police municipale"))
        self.assertEqual((by_id[closed]["status"], by_id[closed]["status_notes"]), ("closed", "Rebouché."))
        for secret in ("Jean Dupont", "jean.dupont@example.fr", "0601020304", "Note interne"):
            self.assertNotIn(secret, self.o311("/requests.json").text)
            self.assertNotIn(secret, self.o311("/requests.xml").text)

        root = self.assertXml(self.o311("/requests.xml"), "service_requests")
        self.assertEqual({child.tag for child in root}, {"request"})
        self.assertEqual([r.findtext("service_request_id") for r in root], [closed, bare, full])
        element = root[2]
        self.assertEqual({child.tag for child in element}, REQUEST_FIELDS)
        for field, value in request.items():
            with self.subTest(xml_field=field):
                self.assertEqual(element.findtext(field), "" if value is None else str(value))

        single = self.assertJson(self.o311(f"/requests/{full}.json"), 200)
        self.assertEqual(single, [request])
        root = self.assertXml(self.o311(f"/requests/{full}.xml"), "service_requests")
        self.assertEqual([(r.tag, r.findtext("service_request_id")) for r in root], [("request", full)])
        for unknown in ("DOL-2000-999999", "nimporte"):
            with self.subTest(unknown=unknown):
                self.assertOpen311Error(self.o311(f"/requests/{unknown}.json"), 404)
                self.assertOpen311Error(self.o311(f"/requests/{unknown}.xml"), 404, xml=True)

    def paris(self, iso_utc):
        """'2026-07-14T10:00:00Z' as the town's local time with its offset: '2026-07-14T12:00:00+02:00'."""
        moment = datetime.strptime(iso_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return moment.astimezone(PARIS).isoformat()

    def test_datetimes_carry_the_offset_of_their_season_and_dates_filter_with_zones(self):
        self.serve()
        year = date.today().year - 1
        summer = self.grievance("--received", f"{year}-07-14T10:00:00Z", title="En été")
        winter = self.grievance("--received", f"{year}-01-15T10:00:00Z", title="En hiver")
        listed = self.assertJson(self.o311("/requests.json", params={"service_request_id": f"{summer},{winter}"}),
                                 200)
        stamps = {r["service_request_id"]: r["requested_datetime"] for r in listed}
        self.assertEqual(stamps, {summer: f"{year}-07-14T12:00:00+02:00", winter: f"{year}-01-15T11:00:00+01:00"})
        # Older than the default window of 90 days: not listed by default.
        self.assertNotIn(summer, [r["service_request_id"] for r in self.o311("/requests.json").json()])

        def between(start, end):
            response = self.o311("/requests.json", params={"start_date": start, "end_date": end})
            return [r["service_request_id"] for r in self.assertJson(response, 200)]

        self.assertEqual(between(f"{year}-07-01T00:00:00+02:00", f"{year}-07-31T23:59:59+02:00"), [summer])
        self.assertEqual(between(f"{year}-01-01T00:00:00+01:00", f"{year}-01-31T00:00:00+01:00"), [winter])
        # 10:00Z is 12:00 in Paris: the zone of each bound counts.
        self.assertEqual(between(f"{year}-07-14T11:59:00+02:00", f"{year}-07-14T12:01:00+02:00"), [summer])
        self.assertEqual(between(f"{year}-07-14T11:59:00Z", f"{year}-07-14T12:01:00Z"), [])
        self.assertEqual(between(f"{year}-07-14T09:59:00Z", f"{year}-07-14T10:01:00Z"), [summer])
        self.assertEqual(between(f"{year}-07-14T04:59:00-05:00", f"{year}-07-14T05:01:00-05:00"), [summer])
        self.assertEqual(between(f"{year}-07-14T09:59:00.250Z", f"{year}-07-14T10:00:00.000Z"), [summer])
        for bad in (f"{year}-07-14T10:00:00", f"{year}-07-14 10:00:00Z", "14/07/2025", "demain",
                    f"{year}-07-14T10:00:00+2", f"{year}-13-01T00:00:00Z"):
            with self.subTest(bad=bad):
                self.assertOpen311Error(self.o311("/requests.json", params={
                    "start_date": bad, "end_date": f"{year}-07-31T00:00:00Z"}), 400)

    def test_date_range_is_limited_to_90_days(self):
        self.serve()
        reference = self.grievance()
        now = datetime.now(timezone.utc).replace(microsecond=0)

        def stamp(moment):
            return moment.astimezone(PARIS).isoformat()

        end = now + timedelta(minutes=5)
        ok = self.o311("/requests.json", params={"start_date": stamp(end - timedelta(days=90)), "end_date": stamp(end)})
        self.assertEqual([r["service_request_id"] for r in self.assertJson(ok, 200)], [reference])
        self.assertOpen311Error(self.o311("/requests.json", params={
            "start_date": stamp(end - timedelta(days=90, seconds=1)), "end_date": stamp(end)}), 400)
        self.assertOpen311Error(self.o311("/requests.xml", params={
            "start_date": stamp(end - timedelta(days=200)), "end_date": stamp(end)}), 400, xml=True)
        self.assertOpen311Error(self.o311("/requests.json", params={"start_date": stamp(now - timedelta(days=91))}),
                                400)  # the end defaults to now
        self.assertOpen311Error(self.o311("/requests.json", params={
            "start_date": stamp(end), "end_date": stamp(end - timedelta(days=1))}), 400)  # start after end

    def test_filters_by_id_code_and_status(self):
        self.serve()
        voirie = self.grievance(title="Trou")
        bruit = self.grievance(category="bruit", title="Tapage")
        closed = self.grievance(category="bruit", title="Aboiements")
        self.ok("grievance", "status", closed, "no_action", "--note", "Hors compétence", "--public")

        def ids(fmt="json", **params):
            response = self.o311(f"/requests.{fmt}", params=params)
            if fmt == "xml":
                return [r.findtext("service_request_id") for r in self.assertXml(response, "service_requests")]
            return [r["service_request_id"] for r in self.assertJson(response, 200)]

        self.assertEqual(ids(), [closed, bruit, voirie])
        self.assertEqual(ids(service_code="bruit"), [closed, bruit])
        self.assertEqual(ids("xml", service_code="bruit"), [closed, bruit])
        self.assertEqual(ids(service_code="animaux"), [])
        self.assertEqual(ids(status="open"), [bruit, voirie])
        self.assertEqual(ids(status="closed"), [closed])
        self.assertEqual(ids(status="open,closed"), [closed, bruit, voirie])
        self.assertEqual(ids(status="open", service_code="bruit"), [bruit])
        self.assertEqual(ids(service_request_id=f"{voirie},{closed}"), [closed, voirie])
        self.assertEqual(ids(service_request_id=voirie), [voirie])
        self.assertEqual(ids(service_request_id="DOL-2000-999999"), [])
        # service_request_id overrides every other parameter.
        self.assertEqual(ids(service_request_id=voirie, service_code="bruit", status="closed",
                             start_date="2000-01-01T00:00:00Z", end_date="2000-01-02T00:00:00Z"), [voirie])
        self.assertOpen311Error(self.o311("/requests.json", params={"service_code": "nulle_part"}), 400)
        self.assertOpen311Error(self.o311("/requests.xml", params={"service_code": "nulle_part"}), 400, xml=True)
        for status in ("ouvert", "open,", "OPEN", "hidden"):
            with self.subTest(status=status):
                self.assertOpen311Error(self.o311("/requests.json", params={"status": status}), 400)

    def test_paging(self):
        self.serve()
        references = [self.grievance(title=f"Trou {i}") for i in range(7)]
        newest_first = list(reversed(references))
        pages = []
        for page in range(1, 6):
            response = self.o311("/requests.json", params={"page_size": 3, "page": page})
            pages.append([r["service_request_id"] for r in self.assertJson(response, 200)])
        self.assertEqual(pages, [newest_first[0:3], newest_first[3:6], newest_first[6:7], [], []])
        self.assertEqual([r["service_request_id"] for r in
                          self.o311("/requests.json", params={"page_size": 1000}).json()], newest_first)
        self.assertEqual([r["service_request_id"] for r in
                          self.o311("/requests.json", params={"page": 1}).json()], newest_first)
        for params in ({"page": 0}, {"page": -1}, {"page": "un"}, {"page_size": 0}, {"page_size": 1001},
                       {"page_size": "3.5"}):
            with self.subTest(params=params):
                self.assertOpen311Error(self.o311("/requests.json", params=params), 400)

    def test_hidden_and_private_grievances_are_never_listed(self):
        self.serve()
        shown = self.grievance(title="Visible")
        hidden = self.grievance(title="Masqué")
        self.ok("grievance", "status", hidden, "hidden", "--note", "injurieux")
        private = self.grievance("--private", "--reporter", self.members["lucie"], title="Privé")
        created = self.submit(api_key=self.tokens["lucie"], service_code="voirie", address_string="1 rue de By")
        via_api = self.assertJson(created, 201)[0]["service_request_id"]
        self.ok("grievance", "status", via_api, "hidden")  # hidden while the server runs
        for params in ({}, {"status": "open"}, {"status": "open,closed"}, {"service_code": "voirie"},
                       {"service_request_id": f"{shown},{hidden},{private},{via_api}"}):
            for fmt in ("json", "xml"):
                with self.subTest(params=params, fmt=fmt):
                    response = self.o311(f"/requests.{fmt}", params=params)
                    self.assertEqual(response.status, 200, response)
                    self.assertIn(shown, response.text)
                    for secret in (hidden, private, via_api, "Masqué", "Privé"):
                        self.assertNotIn(secret, response.text)
        for reference in (hidden, private, via_api):
            with self.subTest(reference=reference):
                self.assertOpen311Error(self.o311(f"/requests/{reference}.json"), 404)
                self.assertOpen311Error(self.o311(f"/requests/{reference}.xml"), 404, xml=True)


# ============================================================================================= bad input


class BadInputTest(ServeTest):
    def test_malformed_json_wrong_type_and_wrong_content_type(self):
        self.serve()
        post = self.new_post("Bonjour")["id"]
        before = self.snapshot()
        endpoints = ["/api/v1/posts", f"/api/v1/posts/{post}/replies", "/api/v1/reports", "/api/v1/grievances",
                     "/api/v1/join"]
        for path in endpoints:
            token = None if path == "/api/v1/join" else self.tokens["paul"]
            with self.subTest(path=path):
                for body in (b'{"body": ', b"{'body': 'x'}", b"", b"\xff\xfe", b'{"body": "x"} trailing'):
                    self.assertApiError(self.post(path, token=token, body=body,
                                                  headers={"Content-Type": "application/json"}),
                                        400, "malformed_json")
                for body in (b"[]", b'"texte"', b"42", b"null"):
                    self.assertApiError(self.post(path, token=token, body=body,
                                                  headers={"Content-Type": "application/json"}),
                                        400, "malformed_json")
                for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml",
                                     "text/json", None):
                    headers = {"Content-Type": content_type} if content_type else {}
                    self.assertApiError(self.post(path, token=token, body=b'{"body": "x"}', headers=headers),
                                        415, "unsupported_media_type")
                # A multipart body that is not multipart: the library's 400 is as good as a 415.
                response = self.post(path, token=token, body=b'{"body": "x"}',
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
                self.assertIn(response.status, (400, 415), response)
                self.assertIn(response.json()["error"]["code"], ("bad_request", "unsupported_media_type"))
        for body, code in (({"body": 42}, "invalid_field"), ({"body": ["x"]}, "invalid_field"),
                           ({"title": "x"}, "missing_field"), ({"body": "x", "neighbourhood": 3}, "invalid_field")):
            with self.subTest(body=body):
                self.assertApiError(self.post("/api/v1/posts", token=self.tokens["paul"], json_body=body), 400,
                                    code)
        self.assertUnchanged(before)

    def test_body_over_the_limit(self):
        self.serve()
        before = self.snapshot()
        big = json.dumps({"body": "x" * (64 * 1024)}).encode()
        self.assertApiError(self.post("/api/v1/posts", token=self.tokens["lucie"], body=big,
                                      headers={"Content-Type": "application/json"}), 413, "too_large")
        form = urllib.parse.urlencode({"api_key": self.tokens["lucie"], "service_code": "voirie",
                                       "address_string": "1 rue de By", "description": "x" * (64 * 1024)})
        response = self.post("/open311/v2/requests.json", body=form,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(response.status, 413, response)
        self.assertUnchanged(before)
        self.assertEqual(self.post("/api/v1/posts", token=self.tokens["lucie"],
                                   json_body={"body": "x" * 3000}).status, 201)

    def test_an_announced_body_over_the_limit_is_refused_at_once(self):
        """Content-Length: 100 MB with a 64 KiB limit: 413 straight away, not after reading (or waiting for) the
        body until the timeout."""
        self.serve("--timeout", "5")
        started = time.monotonic()
        answer = self.server.raw(b"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 b"Authorization: Bearer " + self.tokens["lucie"].encode() +
                                 b"\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n{\"body\": ", timeout=10)
        elapsed = time.monotonic() - started
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:200])
        self.assertLess(elapsed, 2, f"answered after {elapsed:.1f} s")
        self.assertHealthy()

    def test_a_chunked_body_is_refused_before_it_is_read(self):
        """A body must announce its length: a chunked one could grow past the limit before being checked."""
        self.serve()
        before = self.snapshot()
        answer = self.server.raw(b"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 b"Authorization: Bearer " + self.tokens["lucie"].encode() +
                                 b"\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + b"a" * 16 + b"\r\n", timeout=10)
        self.assertTrue(answer.startswith(b"HTTP/1.1 411 "), answer[:200])
        self.assertIn(b'"length_required"', answer)
        self.assertEqual(answer.count(b"X-Content-Type-Options"), 1, answer[:400])
        self.assertUnchanged(before)
        self.assertHealthy()

    def test_body_limit_of_one_kib(self):
        self.serve("--body-limit", "1")
        small = json.dumps({"body": "y" * 900}).encode()
        self.assertLessEqual(len(small), 1024)
        self.assertEqual(self.post("/api/v1/posts", token=self.tokens["lucie"], body=small,
                                   headers={"Content-Type": "application/json"}).status, 201)
        large = json.dumps({"body": "y" * 1100}).encode()
        before = self.snapshot()
        self.assertApiError(self.post("/api/v1/posts", token=self.tokens["lucie"], body=large,
                                      headers={"Content-Type": "application/json"}), 413, "too_large")
        self.assertEqual(self.post("/open311/v2/requests.json", form={
            "api_key": self.tokens["lucie"], "service_code": "voirie", "address_string": "1 rue de By",
            "description": "z" * 1100}).status, 413)
        self.assertUnchanged(before)
        self.assertHealthy()

    def test_missing_invalid_and_revoked_tokens(self):
        self.serve()
        path = "/api/v1/neighbourhoods/centre-bourg/posts"
        self.assertApiError(self.get(path), 401, "missing_token")
        # The scheme is case-insensitive (RFC 9110): "bearer TOKEN" works.
        self.assertEqual(self.get(path, headers={"Authorization": "bearer " + self.tokens["lucie"]}).status, 200)
        for header in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerx " + self.tokens["lucie"],
                       self.tokens["lucie"]):
            with self.subTest(header=header):
                response = self.get(path, headers={"Authorization": header})
                self.assertEqual(response.status, 401, response)
                self.assertIn(response.json()["error"]["code"], ("missing_token", "invalid_token"))
        for token in ("vsn_" + "a" * 32, "vsn_", "x" * 40, "vsn_" + "a" * 5000, "vsn_' OR 1=1 --",
                      self.tokens["lucie"] + "x", self.tokens["lucie"][:-1]):
            with self.subTest(token=token[:50]):
                self.assertApiError(self.get(path, token=token), 401, "invalid_token")
        token_id = [t["id"] for t in self.ok("token", "list", "--member", self.members["paul"], "--json").json()][0]
        self.ok("token", "revoke", token_id)
        self.assertApiError(self.get(path, token=self.tokens["paul"]), 401, "token_revoked")
        self.assertApiError(self.get("/api/v1/grievances/DOL-2000-000001", token=self.tokens["paul"]), 401,
                            "token_revoked")  # an optional token, when given, must be valid

    def test_unknown_slugs_and_ids_are_404_not_500(self):
        self.serve()
        token = self.tokens["lucie"]
        cases = [
            ("GET", "/api/v1/neighbourhoods/nulle-part/posts", None),
            ("GET", "/api/v1/neighbourhoods/Centre-Bourg/posts", None),
            ("GET", "/api/v1/neighbourhoods/" + "a" * 61 + "/posts", None),
            ("GET", "/api/v1/neighbourhoods//posts", None),
            ("GET", "/api/v1/posts/999999", None),
            ("GET", "/api/v1/posts/0", None),
            ("GET", "/api/v1/posts/999999999999999999", None),
            ("GET", "/api/v1/posts/99999999999999999999999", None),
            ("GET", "/api/v1/posts/-1", None),
            ("GET", "/api/v1/posts/abc", None),
            ("POST", "/api/v1/posts/999999/replies", {"body": "x"}),
            ("POST", "/api/v1/posts", {"body": "x", "neighbourhood": "nulle-part"}),
            ("POST", "/api/v1/reports", {"target": "post:999999", "reason": "spam"}),
            ("POST", "/api/v1/reports", {"target": "member:999999", "reason": "spam"}),
            ("GET", "/api/v1/grievances/DOL-2000-999999", None),
            ("GET", "/api/v1/grievances/" + "A" * 25, None),
            ("GET", "/api/v1/nothing", None),
            ("GET", "/api/v2/health", None),
            ("GET", "/api/", None),  # "/" is the home of the web pages (tests/cli/test_web.py)
            ("GET", "/open311/v2/services.csv", None),
            ("DELETE", "/api/v1/posts/1", None),
        ]
        for method, path, body in cases:
            with self.subTest(method=method, path=path):
                kwargs = {"json_body": body} if body is not None else {}
                response = self.server.request(method, path, token=token, **kwargs)
                if method == "DELETE":  # no such route: 404, or 405 for a known path
                    self.assertIn(response.status, (404, 405), response)
                    self.assertIn(response.json()["error"]["code"], ("not_found", "method_not_allowed"))
                elif path.startswith("/open311/"):  # Open311's own error shape, even for a bad extension
                    self.assertOpen311Error(response, 404)
                else:
                    self.assertApiError(response, 404, "not_found")
        self.assertOpen311Error(self.get("/open311/v2/requests/DOL-2000-999999.json"), 404)
        self.assertOpen311Error(self.get("/open311/v2/services/nulle_part.xml"), 404, xml=True)
        self.assertHealthy()

    def test_dot_dot_and_encoded_nul_in_the_path(self):
        self.serve()
        paths = [b"/api/v1/../../../../etc/passwd", b"/../../etc/passwd", b"/api/v1/%2e%2e/%2e%2e/etc/passwd",
                 b"/api/v1/posts/..%2f..%2fetc%2fpasswd", b"/open311/v2/../../town.db", b"/town.db",
                 b"/api/v1/town%00", b"/api/v1/town%00.json", b"/%00", b"/api/v1/neighbourhoods/centre-bourg%00/posts",
                 b"/api/v1/posts/1%00", b"/open311/v2/services/voirie%00.json", b"/open311/v2/requests/DOL%00.json",
                 b"/api/v1/grievances/DOL-2026-000001%00", b"/api/v1/directory?q=%00", b"/api/v1/directory?kind=%00"]
        for path in paths:
            with self.subTest(path=path):
                answer = self.server.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                         self.tokens["lucie"].encode() + b"\r\nConnection: close\r\n\r\n")
                status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
                self.assertIn(status, (400, 404, 422), answer[:300])
                self.assertNotIn(b"root:", answer)
                self.assertNotIn(b"SQLite format", answer)
                self.assertNotIn(str(self.dir).encode(), answer)
                self.assertHealthy()
        for path in (b"/api/v1/town\x00", b"/api/v1/../\x00/x"):  # a raw NUL on the request line
            with self.subTest(raw=path):
                answer = self.server.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.assertTrue(answer == b"" or re.match(rb"HTTP/1\.1 4\d\d ", answer), answer[:300])
                self.assertHealthy()

    def test_a_header_section_of_100_kb(self):
        self.serve("--timeout", "2")
        padding = {
            "100 lines of 1 KB": b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"a" * 1000) for i in range(100)),
            "one line of 100 KB": b"X-Pad: " + b"a" * 100_000 + b"\r\n",
            "10,000 short lines": b"".join(b"X-P%d: a\r\n" % i for i in range(10_000)),
        }
        for label, headers in padding.items():
            with self.subTest(headers=label):
                started = time.monotonic()
                answer = self.server.raw(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + headers +
                                         b"Connection: close\r\n\r\n", timeout=10)
                self.assertTrue(answer == b"" or re.match(rb"HTTP/1\.1 4\d\d ", answer),
                                f"a {label} header section was answered {answer[:200]!r}")
                self.assertLess(time.monotonic() - started, 8)
                self.assertHealthy()

    def test_security_headers_and_json_on_every_response(self):
        """The design promises nosniff / no-referrer and a JSON error on every response, the library's own errors
        included (a request line it cannot parse, a body over the limit, a rate limit)."""
        self.serve("--body-limit", "1", "--client-rate", "1", limits=True)
        answers = {
            "ok": self.server.raw(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            "unparsable request": self.server.raw(b"NONSENSE\r\n\r\n", timeout=5),
            "too large": self.server.raw(b"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                                         b"json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" + b"x" * 5000),
        }
        for _ in range(5):
            answers["rate limited"] = self.server.raw(b"GET /api/v1/town HTTP/1.1\r\nHost: x\r\n"
                                                      b"Connection: close\r\n\r\n")
        for label, answer in answers.items():
            with self.subTest(label):
                head, _, body = answer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                self.assertEqual(headers.get("x-content-type-options"), "nosniff", head)
                self.assertEqual(headers.get("referrer-policy"), "no-referrer", head)
                self.assertEqual(headers.get("content-type"), JSON_TYPE, head)
                json.loads(body)

    def test_a_slow_client_sending_one_byte_a_second(self):
        server = self.serve("--timeout", "2")
        request = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        outcome = {}

        def trickle():
            s = socket.create_connection((server.host, server.port), timeout=15)
            try:
                for byte in request[:6]:
                    s.sendall(bytes([byte]))
                    time.sleep(1)
                stopped = time.monotonic()
                try:
                    outcome["answer"] = s.recv(4096)
                except (ConnectionResetError, socket.timeout) as e:
                    outcome["answer"] = repr(e)
                outcome["closed_after"] = time.monotonic() - stopped
            except (BrokenPipeError, ConnectionResetError) as e:
                outcome["answer"], outcome["closed_after"] = repr(e), 0
            finally:
                s.close()

        slow = threading.Thread(target=trickle)
        slow.start()
        durations = []
        for _ in range(10):
            started = time.monotonic()
            self.assertEqual(server.request("GET", "/api/v1/town", timeout=5).status, 200)
            durations.append(time.monotonic() - started)
            time.sleep(0.4)
        slow.join(30)
        self.assertFalse(slow.is_alive())
        self.assertLess(max(durations), 3, durations)  # never held for the slow client's six seconds (1 to 3 ms here)
        # Silent after its sixth byte, the slow client is dropped after --timeout (2 s): closed, reset or a 4xx,
        # never served and never kept.
        answer = outcome["answer"]
        self.assertTrue(answer == b"" or isinstance(answer, str) or re.match(rb"HTTP/1\.1 4\d\d ", answer), outcome)
        self.assertLess(outcome["closed_after"], 5, outcome)
        self.assertHealthy()

    def test_a_thousand_silent_connections_hold_no_thread(self):
        """1,000 clients connect and say nothing. The kernel keeps them until they send something
        (TCP_DEFER_ACCEPT), so the server starts no thread for them and answers a normal request at once; a silent
        client that speaks at last is answered too. Without the deferral each would hold a thread polling its
        socket about ninety times a second, both cores busy."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < 1100:
            self.skipTest(f"needs 1,100 file descriptors, the limit is {soft}")
        somaxconn = Path("/proc/sys/net/core/somaxconn")
        if somaxconn.exists() and int(somaxconn.read_text()) < 1100:
            self.skipTest("the kernel caps the listen queue below 1,100 (net.core.somaxconn)")
        server = self.serve("--timeout", "30")  # the kernel holds silent clients ~31 s: longer than this test
        status = Path(f"/proc/{server.pid}/status")
        if not status.exists():
            self.skipTest("needs /proc to count the server's threads")
        self.assertHealthy()
        silent = []
        self.addCleanup(lambda: [s.close() for s in silent])
        silent.extend(socket.create_connection((server.host, server.port), timeout=5) for _ in range(1000))
        threads = int(re.search(r"^Threads:\s*(\d+)", status.read_text(), re.M).group(1))
        self.assertLess(threads, 50, "the server started threads for connections that sent nothing")
        started = time.monotonic()
        self.assertHealthy()
        self.assertLess(time.monotonic() - started, 3)
        for s in silent[:20]:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for s in silent[:20]:
            self.assertRegex(s.recv(4096), rb"^HTTP/1\.1 200 ")

    def test_a_silent_connection_is_closed_within_five_timeouts(self):
        """The kernel hands a silent client over after about --timeout seconds (the SYN-ACK retransmission past
        it: 3 s for 2), and the server closes it --timeout seconds later: about 5 s here."""
        server = self.serve("--timeout", "2")
        s = socket.create_connection((server.host, server.port), timeout=20)
        self.addCleanup(s.close)
        started = time.monotonic()
        try:
            self.assertEqual(s.recv(4096), b"")
        except ConnectionResetError:
            pass
        self.assertLess(time.monotonic() - started, 5 * 2)
        self.assertHealthy()

    def test_sql_and_html_in_every_text_field_are_stored_and_returned_verbatim(self):
        self.serve()
        lucie, paul = self.tokens["lucie"], self.tokens["paul"]
        post = self.assertJson(self.post("/api/v1/posts", token=lucie, json_body={
            "kind": "event", "title": UNSAFE, "body": UNSAFE, "event_at": "2031-06-21", "event_place": UNSAFE}),
            201)["post"]
        self.assertEqual((post["title"], post["body"], post["event"]["place"]), (UNSAFE, UNSAFE, UNSAFE))
        self.assertEqual(self.query("SELECT title, body, event_place FROM post WHERE id = ?", post["id"]),
                         [(UNSAFE, UNSAFE, UNSAFE)])
        shown = self.get(f"/api/v1/posts/{post['id']}", token=paul).json()
        self.assertEqual((shown["title"], shown["body"], shown["event"]["place"]), (UNSAFE, UNSAFE, UNSAFE))
        reply = self.assertJson(self.post(f"/api/v1/posts/{post['id']}/replies", token=paul,
                                          json_body={"body": UNSAFE}), 201)["post"]
        self.assertEqual(self.query("SELECT body FROM post WHERE id = ?", reply["id"]), [(UNSAFE,)])
        self.assertEqual(self.get(f"/api/v1/posts/{post['id']}", token=paul).json()["replies"][0]["body"], UNSAFE)
        self.assertEqual(self.feed_ids(token="paul"), [post["id"]])

        report = self.assertJson(self.post("/api/v1/reports", token=self.tokens["marie"], json_body={
            "target": f"post:{post['id']}", "reason": "illegal", "details": UNSAFE, "notifier_name": UNSAFE,
            "notifier_email": MARIE, "good_faith": True}), 201)["report"]
        self.assertEqual(self.query("SELECT details, notifier_name FROM report WHERE id = ?", report),
                         [(UNSAFE, UNSAFE)])

        grievance = self.assertJson(self.post("/api/v1/grievances", token=lucie, json_body={
            "category": "voirie", "title": UNSAFE, "description": UNSAFE, "address": UNSAFE, "postcode": "77810"}),
            201)["grievance"]
        self.assertEqual((grievance["title"], grievance["description"], grievance["address"]),
                         (UNSAFE, UNSAFE, UNSAFE))
        self.assertEqual(self.query("SELECT title, description, address FROM grievance WHERE reference = ?",
                                    grievance["reference"]), [(UNSAFE, UNSAFE, UNSAFE)])
        shown = self.get(f"/api/v1/grievances/{grievance['reference']}").json()
        self.assertEqual((shown["title"], shown["description"], shown["address"]), (UNSAFE, UNSAFE, UNSAFE))

        created = self.assertJson(self.post("/open311/v2/requests.json", form={
            "api_key": paul, "service_code": "voirie", "address_string": UNSAFE, "description": UNSAFE,
            "first_name": UNSAFE, "last_name": "Dupont"}), 201)[0]["service_request_id"]
        self.assertEqual(self.query("SELECT description, address, contact_name FROM grievance WHERE reference = ?",
                                    created), [(UNSAFE, UNSAFE, UNSAFE + " Dupont")])
        listed = self.get(f"/open311/v2/requests/{created}.json").json()[0]
        self.assertEqual((listed["description"], listed["address"]), (UNSAFE, UNSAFE))
        element = self.get(f"/open311/v2/requests/{created}.xml").xml()[0]  # escaped in XML, never raw markup
        self.assertEqual((element.findtext("description"), element.findtext("address")), (UNSAFE, UNSAFE))
        self.assertIsNone(element.find(".//script"))

        code = self.ok("invite", "create", "--neighbourhood", "effondre", "--format", "json").json()[0]["code"]
        joined = self.assertJson(self.post("/api/v1/join", json_body={"code": code, "display_name": UNSAFE}), 201)
        self.assertEqual(joined["member"]["display_name"], UNSAFE)
        self.assertEqual(self.query("SELECT display_name FROM member WHERE id = ?", joined["member"]["id"]),
                         [(UNSAFE,)])
        searched = self.get("/api/v1/directory", params={"q": UNSAFE})
        self.assertIn(searched.status, (200, 422), searched)
        if searched.status == 200:
            self.assertEqual(searched.json(), {"entries": [], "next_offset": None})
        # Nothing was interpreted: every table is still there and intact.
        self.ok("db", "check")
        self.assertEqual(self.query("SELECT count(*) FROM grievance")[0][0], 2)

    def test_client_rate_limit(self):
        server = self.serve("--client-rate", "2", limits=True)
        statuses, limited = [], None
        for _ in range(10):
            response = server.request("GET", "/api/v1/town")
            statuses.append(response.status)
            if response.status == 429 and limited is None:
                limited = response
        self.assertEqual(statuses[:4], [200] * 4, statuses)  # bursts of twice the rate
        self.assertIsNotNone(limited, statuses)
        self.assertApiError(limited, 429, "rate_limited")
        retry_after = limited.header("Retry-After")
        self.assertRegex(retry_after or "", r"^[1-9]\d*$")
        self.assertLessEqual(int(retry_after), 2)
        time.sleep(int(retry_after))
        self.assertEqual(server.request("GET", "/api/v1/town").status, 200)

    def test_token_rate_limit(self):
        # One request every ten seconds per token, a burst of one (the burst's size is a unit test of
        # RateLimiter): the test's requests take well under ten seconds, whatever the machine's speed.
        server = self.serve("--client-rate", "0", "--token-rate", "0.1", limits=True)
        path = "/api/v1/neighbourhoods/centre-bourg/posts"
        statuses = [server.request("GET", path, token=self.tokens["lucie"]).status for _ in range(8)]
        self.assertEqual(statuses, [200] + [429] * 7)
        limited = server.request("GET", path, token=self.tokens["lucie"])
        self.assertApiError(limited, 429, "rate_limited")
        self.assertRegex(limited.header("Retry-After") or "", r"^[1-9]\d*$")
        # Per token: another token, and calls without one, are not limited.
        self.assertEqual(server.request("GET", path, token=self.tokens["paul"]).status, 200)
        self.assertEqual(server.request("GET", "/api/v1/town").status, 200)
        submitted = server.request("POST", "/open311/v2/requests.json", form={
            "api_key": self.tokens["lucie"], "service_code": "voirie", "address_string": "1 rue de By"})
        self.assertOpen311Error(submitted, 429)
        self.assertRegex(submitted.header("Retry-After") or "", r"^[1-9]\d*$")
        self.assertEqual(self.query("SELECT count(*) FROM grievance"), [(0,)])

    def test_default_client_rate_limit(self):
        server = self.serve(limits=True)  # 20 requests a second, bursts of 40
        started = time.monotonic()
        statuses = [server.request("GET", "/api/v1/health").status for _ in range(100)]
        allowed = 40 + 20 * (time.monotonic() - started)  # the burst, and what came back meanwhile
        self.assertLessEqual(set(statuses), {200, 429})
        self.assertGreaterEqual(statuses.count(200), 40, statuses)
        self.assertLessEqual(statuses.count(200), allowed + 1, statuses)
        if allowed + 1 < 100:  # faster than the rate (here the 100 requests take about 0.05 s)
            self.assertIn(429, statuses)


# ========================================================================================= the CLI at once


class ConcurrencyTest(ServeTest):
    def test_writes_on_both_sides_stay_visible_once_the_server_holds_several_connections(self):
        """Two keep-alive clients make the server open a database connection on each of two threads; a read-only
        CLI command then comes and goes. Each side must still see the other's writes: the server's accepted post
        is in the file, and the moderator's hiding reaches the feed."""
        server = self.serve()
        early = self.new_post("Avant")["id"]
        clients = []
        self.addCleanup(lambda: [c.close() for c in clients])
        for _ in range(2):
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request("GET", "/api/v1/neighbourhoods/centre-bourg/posts",
                         headers={"Authorization": f"Bearer {self.tokens['lucie']}"})  # keep-alive: stays open
            answer = conn.getresponse()
            self.assertEqual(answer.status, 200)
            answer.read()
            clients.append(conn)
        self.ok("post", "list")
        wal_files = sorted(p.name for p in self.dir.glob("town.db-*"))
        accepted = self.new_post("Après la commande")["id"]
        self.assertEqual(self.query("SELECT body FROM post WHERE id = ?", accepted), [("Après la commande",)],
                         f"a post the server accepted (201) is not in the file; next to it: {wal_files}")
        self.ok("post", "show", accepted)
        self.ok("mod", "hide", f"post:{early}", "--reason", "spam", "--as", SANDRINE)
        self.assertEqual(self.feed_ids(), [accepted])
        # The server's connections are open: the CLI must not have removed the write-ahead log under them.
        self.assertEqual(wal_files, ["town.db-shm", "town.db-wal"])
        for conn in clients:
            conn.close()
        self.ok("db", "check")

    def test_cli_writes_while_the_server_takes_requests(self):
        server = self.serve()
        early = [self.new_post(f"Annonce {i}")["id"] for i in range(3)]
        stop = threading.Event()
        lock = threading.Lock()
        failures, grievances, posts = [], [], []
        counts = []

        def worker(number):
            token = self.tokens["lucie" if number % 2 == 0 else "paul"]
            done = 0
            try:
                while not stop.is_set() or done < 15:
                    step = done % 4
                    if step == 0:
                        response = server.request("POST", "/api/v1/grievances", token=token, json_body={
                            "category": "voirie", "title": f"Trou {number}-{done}", "description": "Un trou"})
                    elif step == 1:
                        response = server.request("POST", "/api/v1/posts", token=token,
                                                  json_body={"body": f"Message {number}-{done}"})
                    elif step == 2:
                        response = server.request("GET", "/api/v1/neighbourhoods/centre-bourg/posts", token=token)
                    else:
                        response = server.request("GET", "/open311/v2/requests.json")
                    with lock:
                        if response.status not in (200, 201):
                            failures.append(response)
                        elif step == 0:
                            grievances.append(response.json()["grievance"]["reference"])
                        elif step == 1:
                            posts.append(response.json()["post"]["id"])
                    done += 1
            except Exception as e:  # noqa: BLE001 -- a failed request is what this test looks for
                with lock:
                    failures.append(repr(e))
            with lock:
                counts.append(done)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.2)
            cli = [
                ("import", "merchants", harness.EXAMPLES / "registries" / "sirene_thomery.csv"),
                ("grievance", "add", "--category", "bruit", "--title", "Tapage", "--description", "La nuit"),
                ("mod", "hide", f"post:{early[1]}", "--reason", "spam", "--as", SANDRINE),
                ("grievance", "add", "--category", "proprete", "--title", "Papiers", "--description", "Partout"),
                ("post", "add", "--as", self.members["paul"], "--body", "Depuis le terminal"),
                ("import", "associations", harness.EXAMPLES / "registries" / "rna_thomery.csv"),
                ("grievance", "add", "--category", "animaux", "--title", "Chien", "--description", "Errant"),
                ("mod", "rules", "add", "scooter", "--action", "flag"),
            ]
            for args in cli:
                with self.subTest(cli=args[:2]):
                    result = self.run_cli(*args)
                    self.assertEqual(result.code, 0, result)
                    self.assertNotIn("locked", result.err)
                    self.assertNotIn("busy", result.err)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(failures, [])
        self.assertEqual(len(counts), 4)
        self.assertGreaterEqual(min(counts), 15)
        # Every accepted write is in the file.
        stored = {r[0] for r in self.query("SELECT reference FROM grievance")}
        self.assertEqual(set(grievances) - stored, set())
        self.assertEqual(len(stored), len(grievances) + 3)
        stored_posts = {r[0] for r in self.query("SELECT id FROM post")}
        self.assertEqual(set(posts) - stored_posts, set())
        self.assertEqual(len(set(posts)), len(posts))
        self.assertGreater(self.query("SELECT count(*) FROM directory_entry")[0][0], 0)
        self.assertNotIn(early[1], self.feed_ids(limit=100))
        self.ok("db", "check")


# =============================================================================================== stopping


class StopTest(ServeTest):
    def test_sigterm_lets_the_request_in_flight_finish(self):
        log = self.dir / "access.log"
        server = self.serve("--access-log", log, "--timeout", "5")
        secret = self.tokens["lucie"]
        sent = [
            ("GET", "/api/v1/health", {}, 200),
            ("GET", "/api/v1/neighbourhoods/centre-bourg/posts", {"token": secret, "params": {"limit": 5}}, 200),
            ("GET", "/open311/v2/requests.json", {"params": {"api_key": secret, "service_code": "voirie"}}, 200),
            ("POST", "/open311/v2/requests.json", {"form": {"api_key": secret, "service_code": "voirie",
                                                            "address_string": "1 rue de By"}}, 201),
            ("GET", "/api/v1/posts/999999", {"token": secret}, 404),
            ("GET", "/api/v1/neighbourhoods/centre-bourg/posts", {"token": "vsn_" + "z" * 32}, 401),
        ]
        for method, path, kwargs, status in sent:
            self.assertEqual(server.request(method, path, **kwargs).status, status)
        # Client addresses are personal data: owner-only, whatever the umask the server ran with.
        self.assertEqual(log.stat().st_mode & 0o777, 0o600)

        body = json.dumps({"category": "voirie", "title": "Envoyée lentement", "description": "Un trou"}).encode()
        with socket.create_connection((server.host, server.port), timeout=15) as s:
            s.sendall(b"POST /api/v1/grievances?trace=secret-query HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + secret.encode() + b"\r\nContent-Type: application/json\r\n"
                      b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body[:10])
            time.sleep(0.3)
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(1)
            self.assertTrue(server.alive(), "the server ended with a request in flight")
            s.sendall(body[10:])
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer[:300])
        reference = json.loads(answer.partition(b"\r\n\r\n")[2])["grievance"]["reference"]
        self.assertEqual(server.proc.wait(15), 0, server.stderr())
        self.assertIn("voisinage: stopping", server.stderr())
        self.assertEqual(self.query("SELECT title FROM grievance WHERE reference = ?", reference),
                         [("Envoyée lentement",)])
        self.ok("db", "check")

        lines = log.read_text().splitlines()
        expected = [(m, p, str(s)) for m, p, _, s in sent] + [("POST", "/api/v1/grievances", "201")]
        self.assertEqual(len(lines), len(expected), lines)
        for line in lines:
            self.assertRegex(line, ACCESS_LINE)
        # One line per request; two requests in a row may be logged in either order.
        self.assertEqual(sorted(ACCESS_LINE.match(line).groups() for line in lines), sorted(expected))
        self.assertEqual(ACCESS_LINE.match(lines[-1]).groups(), ("POST", "/api/v1/grievances", "201"))
        # Neither the access log nor the server's messages hold a secret or a request's content.
        for text in (log.read_text(), server.stderr()):
            for secret_text in (secret, "vsn_", "api_key", "?", "secret-query", "limit=", "Bearer", "1 rue de By",
                                "Un trou"):
                self.assertNotIn(secret_text, text)

    def test_sigint_and_sigterm_stop_promptly_with_an_idle_keep_alive_connection(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig):
                server = Server(self, ("--timeout", "3"))
                self.addCleanup(lambda s=server: s.proc.poll() is None and s.proc.kill())
                conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
                conn.request("GET", "/api/v1/health")  # keep-alive: the connection stays open, idle
                answer = conn.getresponse()
                self.assertEqual((answer.status, answer.getheader("Connection")), (200, None))
                answer.read()
                started = time.monotonic()
                code = server.stop(sig, timeout=15)
                conn.close()
                self.assertEqual(code, 0, server.stderr())
                self.assertLess(time.monotonic() - started, 6)
                self.assertIn("voisinage: stopping", server.stderr())
        self.ok("db", "check")


if __name__ == "__main__":
    harness.main()

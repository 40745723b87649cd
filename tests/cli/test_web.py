"""voisinage serve: the French HTML pages for residents, over real HTTP against the real server on a free loopback
port. A small cookie-keeping client plays the browser, so that each test can also misbehave like an attacker:
forged or missing CSRF tokens, replayed or expired sessions, used invitation codes, over-long fields, markup in
every field, a flood of grievances. (tests/browser/ drives a real Chromium over the same pages.)"""

import http.client
import html
import json
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.parse
from pathlib import Path

import harness

SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator in examples/thomery.yaml
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"
CSP = ("default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
TEMPLATE = {}


def _cli(db, *args):
    completed = subprocess.run([harness.BINARY, "--db", str(db)] + [str(a) for a in args], capture_output=True,
                               text=True, timeout=60)
    if completed.returncode != 0:
        raise RuntimeError(f"voisinage {' '.join(map(str, args))}: {harness.Result(completed)}")
    return completed.stdout


def setUpModule():
    directory = Path(tempfile.mkdtemp(prefix="voisinage-web-template-"))
    db = directory / "town.db"
    _cli(db, "init", "--from", harness.EXAMPLES / "thomery.yaml")
    _cli(db, "import", "merchants", harness.EXAMPLES / "registries" / "sirene_thomery.csv")
    TEMPLATE.update(dir=directory, db=db)


def tearDownModule():
    shutil.rmtree(TEMPLATE["dir"], ignore_errors=True)


class Page:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.text = body.decode("utf-8")

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def csrf(self):
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', self.text)[1]

    def __repr__(self):
        return f"HTTP {self.status} {self.headers}\n{self.text[:3000]}"


class Client:
    """One browser: keeps the cookies the server sets."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, fields=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        page = Page(response.status, response.getheaders(), response.read())
        conn.close()
        for name, value in page.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookie_value = rest.split(";")[0]
                if "Max-Age=0" in value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = cookie_value
        return page

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, fields, **kwargs):
        return self.request("POST", path, fields=fields, **kwargs)

    def submit(self, form_path, fields, action=None):
        """GETs the form page, then POSTs `fields` with its CSRF token."""
        token = self.get(form_path).csrf()
        return self.post(action or form_path, {"csrf": token, **fields})


class WebTest(harness.VoisinageTest):
    server_args = ()

    def setUp(self):
        super().setUp()
        shutil.copy(TEMPLATE["db"], self.db)
        argv = [harness.BINARY, "--db", str(self.db), "serve", "--listen", "127.0.0.1:0", *self.server_args]
        self.stderr_path = self.dir / "serve.err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline().decode() if ready else ""
        match = re.fullmatch(r"serving on http://127\.0\.0\.1:(\d+) \(Ctrl-C to stop\)\n", line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"serve printed {line!r}")
        self.port = int(match[1])
        self.addCleanup(self.stop)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(20), 0)
        self.proc.stdout.close()
        stderr = self.stderr_path.read_text()
        self.assertNotIn("internal error", stderr)
        self.assertNotIn("database is locked", stderr)

    def client(self):
        return Client(self.port)

    def invitation(self):
        return self.ok("invite", "create", "--neighbourhood", "centre-bourg", "--count", "1",
                       "--format", "csv").out.splitlines()[1].split(",")[0]

    def joined(self, name="Lucie B."):
        client = self.client()
        page = client.submit("/rejoindre", {"code": self.invitation(), "display_name": name})
        self.assertEqual(page.status, 303, page)
        self.assertEqual(page.header("Location"), "/quartiers/centre-bourg?bienvenue=1")
        return client

    def assertHtml(self, page, status):
        self.assertEqual(page.status, status, page)
        self.assertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        self.assertIn('<html lang="fr">', page.text)
        self.assertEqual(page.header("Content-Security-Policy"), CSP)
        self.assertEqual(page.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(page.header("Referrer-Policy"), "no-referrer")
        self.assertNotIn("<script", page.text)
        self.assertNotIn(" style=", page.text)

    def count(self, table):
        return self.query(f"SELECT count(*) FROM {table}")[0][0]


class PagesTest(WebTest):
    def test_home_lists_the_neighbourhoods_and_the_town_hall_announcements(self):
        marie = "marie.lefevre@mairie-thomery.example.fr"
        self.ok("post", "add", "--as", marie, "--neighbourhood", "centre-bourg", "--kind", "announcement",
                "--title", "Travaux rue de la République", "--body", "La rue sera fermée lundi.")
        page = self.client().get("/")
        self.assertHtml(page, 200)
        self.assertIn("<title>Thomery — Thomery</title>", page.text)
        self.assertIn('<a href="/quartiers/centre-bourg">', page.text)
        self.assertIn("Travaux rue de la République", page.text)
        self.assertIn("(Mairie)", page.text)
        css = self.client().get("/static/site.css")
        self.assertEqual((css.status, css.header("Content-Type")), (200, "text/css; charset=utf-8"))
        self.assertIn(":focus-visible", css.text)

    def test_unknown_pages_get_the_french_404_page_and_the_api_keeps_json(self):
        client = self.client()
        for path in ("/nulle-part", "/quartiers/inconnu", "/messages/999999", "/annuaire/999999",
                     "/doleances/DOL-2026-999999", "/messages/abc", "/%3Cscript%3E"):
            page = client.get(path)
            self.assertHtml(page, 404)
            self.assertIn("<h1>Page introuvable</h1>", page.text, path)
        api = client.get("/api/v1/nope")
        self.assertEqual(api.status, 404)
        self.assertEqual(json.loads(api.text)["error"]["code"], "not_found")

    def test_what_the_server_refuses_before_the_pages_is_explained_in_french(self):
        client = self.client()
        # A method the page does not take, an unknown page posted to, a body over the limit, a malformed request.
        for method, path, fields, headers, status, heading in (
                ("POST", "/nulle-part", {"a": "b"}, None, 404, "Page introuvable"),
                ("DELETE", "/annuaire", None, None, 404, "Page introuvable"),
                ("POST", "/doleances/nouvelle", {"description": "x" * 70000}, None, 413,
                 "Demande trop volumineuse"),
                ("GET", "/annuaire", None, {f"X-Grand-{i}": "x" * 7000 for i in range(5)}, 431,
                 "Demande trop volumineuse"),
                ("GET", "/annuaire", None, {"X-Ligne": "x" * 40000}, 400, "Demande incomprise")):
            with self.subTest(method=method, path=path):
                page = client.request(method, path, fields=fields, headers=headers)
                self.assertEqual(page.status, status, page)
                self.assertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
                self.assertIn(f"<h1>{heading}</h1>", page.text)
                self.assertIn('<html lang="fr">', page.text)
        self.assertEqual(self.count("grievance"), 0)

    def test_directory_search_ignores_accents_and_case_and_filters(self):
        client = self.client()
        for query in ("epicerie", "ÉPICERIE", "Épicerie"):
            page = client.get("/annuaire?" + urllib.parse.urlencode({"q": query}))
            self.assertHtml(page, 200)
            self.assertRegex(page.text.lower(), r"<a href=\"/annuaire/\d+\">[^<]*picerie", query)
            self.assertIn(f'value="{html.escape(query)}"', page.text)
        entry = re.search(r'<a href="(/annuaire/\d+)">', page.text)[1]
        self.assertHtml(client.get(entry), 200)
        none = client.get("/annuaire?q=epicerie&type=association")
        self.assertIn("Aucun résultat.", none.text)
        bad = client.get("/annuaire?type=bidon&q=" + "x" * 300)
        self.assertHtml(bad, 400)
        self.assertIn('id="f-q-erreur"', bad.text)
        self.assertIn('id="f-type-erreur"', bad.text)


class SessionTest(WebTest):
    def test_join_sets_a_session_cookie_and_signs_in(self):
        client = self.client()
        page = client.submit("/rejoindre", {"code": self.invitation(), "display_name": "Lucie B."})
        self.assertEqual(page.status, 303, page)
        cookie = next(v for k, v in page.headers if k.lower() == "set-cookie" and v.startswith("vsn_session="))
        self.assertRegex(cookie, r"^vsn_session=[0-9A-Za-z]{40}; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax$")
        secret = client.cookies["vsn_session"]
        self.assertNotIn("vsn_", secret)  # never the API token
        self.assertEqual(self.query("SELECT count(*) FROM web_session WHERE session_hash = ?", secret)[0][0], 0)
        self.assertEqual(self.count("web_session"), 1)
        self.assertEqual(self.count("api_token"), 0)
        welcome = client.get(page.header("Location"))
        self.assertHtml(welcome, 200)
        self.assertIn("Connecté·e : <strong>Lucie B.</strong>", welcome.text)
        self.assertIn("Bienvenue dans votre quartier", welcome.text)

    def test_signing_out_deletes_the_session_and_a_replayed_cookie_signs_nobody_in(self):
        client = self.joined()
        stolen = dict(client.cookies)
        form = client.get("/quartiers/centre-bourg/publier")
        self.assertHtml(form, 200)
        token = form.csrf()
        out = client.post("/deconnexion", {"csrf": client.get("/").csrf()})
        self.assertEqual((out.status, out.header("Location")), (303, "/"))
        self.assertNotIn("vsn_session", client.cookies)
        self.assertEqual(self.count("web_session"), 0)
        replay = self.client()
        replay.cookies = stolen
        page = replay.get("/quartiers/centre-bourg/publier")
        self.assertHtml(page, 403)
        self.assertIn("Connexion nécessaire", page.text)
        posted = replay.post("/quartiers/centre-bourg/publier",
                             {"csrf": token, "kind": "discussion", "body": "Bonjour"})
        self.assertHtml(posted, 403)
        self.assertEqual(self.count("post"), 0)

    def test_an_expired_session_signs_nobody_in(self):
        client = self.joined()
        self.ok("db", "check")  # the CLI works on the file at the same time
        with sqlite3.connect(self.db) as conn:
            conn.execute("UPDATE web_session SET expires_at = '2020-01-01T00:00:00Z'")
        conn.close()
        page = client.get("/quartiers/centre-bourg")
        self.assertHtml(page, 200)
        self.assertNotIn("Connecté·e", page.text)
        self.assertNotIn("vsn_session", client.cookies)  # the browser is told to forget it

    def test_an_invitation_code_is_used_once(self):
        code = self.invitation()
        self.assertEqual(self.client().submit("/rejoindre", {"code": code, "display_name": "Lucie"}).status, 303)
        again = self.client().submit("/rejoindre", {"code": code.lower(), "display_name": "Intrus"})
        self.assertHtml(again, 422)
        self.assertIn("Ce code d’invitation a déjà été utilisé.", again.text)
        self.assertIn('value="Intrus"', again.text)
        self.assertIn('aria-invalid="true"', again.text)
        unknown = self.client().submit("/rejoindre", {"code": "ABCD-EFGH", "display_name": "Intrus"})
        self.assertIn("Ce code d’invitation est inconnu.", unknown.text)
        self.assertEqual(self.count("web_session"), 1)

    def test_forms_without_or_with_a_forged_csrf_token_change_nothing(self):
        victim = self.joined()
        attacker = self.client()
        attacker_token = attacker.get("/doleances/nouvelle").csrf()
        fields = {"category": "voirie", "title": "Nid-de-poule", "description": "Rue Victor Hugo", "anonymous": "1"}
        cases = [
            (victim, "/doleances/nouvelle", fields),
            (victim, "/doleances/nouvelle", {"csrf": attacker_token, **fields}),
            (victim, "/doleances/nouvelle", {"csrf": "0" * 64, **fields}),
            (victim, "/quartiers/centre-bourg/publier", {"csrf": attacker_token, "kind": "discussion", "body": "x"}),
            (victim, "/deconnexion", {}),
            (attacker, "/rejoindre", {"csrf": "f" * 64, "code": self.invitation(), "display_name": "X"}),
        ]
        for client, path, form in cases:
            page = client.post(path, form)
            self.assertHtml(page, 403)
            self.assertIn("<h1>Formulaire expiré</h1>", page.text)
        self.assertEqual((self.count("grievance"), self.count("post"), self.count("web_session")), (0, 0, 1))

    def test_secure_cookie_only_behind_a_trusted_tls_proxy(self):
        page = self.client().get("/", headers={"X-Forwarded-Proto": "https"})
        self.assertNotIn("Secure", page.header("Set-Cookie"))


class TrustedProxyTest(WebTest):
    server_args = ("--trust-proxy",)

    def test_secure_cookie_only_behind_a_trusted_tls_proxy(self):
        client = self.client()
        proxy = {"X-Forwarded-Proto": "https"}
        self.assertTrue(client.get("/", headers=proxy).header("Set-Cookie").endswith("; Secure"))
        self.assertNotIn("Secure", self.client().get("/").header("Set-Cookie"))


class PostingTest(WebTest):
    def test_post_reply_and_report_with_the_word_rules_explained(self):
        lucie = self.joined("Lucie B.")
        page = lucie.submit("/quartiers/centre-bourg/publier",
                            {"kind": "offer", "subkind": "lend", "title": "Perceuse", "body": "Je prête ma perceuse."})
        self.assertEqual(page.status, 303, page)
        post_url = page.header("Location")
        self.assertRegex(post_url, r"^/messages/\d+\?statut=publie$")
        shown = lucie.get(post_url)
        self.assertHtml(shown, 200)
        self.assertIn("Votre message est publié.", shown.text)
        refused = lucie.submit("/quartiers/centre-bourg/publier", {"kind": "discussion", "body": "Quel connard !"})
        self.assertHtml(refused, 422)
        self.assertIn("Votre message a été refusé : il contient une expression interdite", refused.text)
        self.assertIn("Quel connard !</textarea>", refused.text)
        held = lucie.submit("/quartiers/centre-bourg/publier", {"kind": "discussion", "body": "Payez par PayPal"})
        self.assertEqual(held.status, 303, held)
        self.assertIn("en attente de modération", lucie.get(held.header("Location")).text)
        feed = self.client().get("/quartiers/centre-bourg")
        self.assertIn("Perceuse", feed.text)
        self.assertNotIn("PayPal", feed.text)

        paul = self.joined("Paul G.")
        post_path = post_url.split("?")[0]
        reply = paul.submit(post_path, {"body": "Merci, je passe samedi !"}, action=post_path + "/repondre")
        self.assertEqual(reply.status, 303, reply)
        self.assertIn("Merci, je passe samedi !", self.client().get("/quartiers/centre-bourg").text)
        empty = paul.submit(post_path, {"body": "  "}, action=post_path + "/repondre")
        self.assertHtml(empty, 422)
        self.assertIn('id="f-body-erreur"', empty.text)

        report_path = post_path + "/signaler"
        illegal = paul.submit(report_path, {"reason": "illegal", "details": ""})
        self.assertHtml(illegal, 422)
        for field in ("details", "notifier_name", "notifier_email", "good_faith"):
            self.assertIn(f'id="f-{field}-erreur"', illegal.text)
        reported = paul.submit(report_path, {"reason": "spam", "details": "Publicité"})
        self.assertHtml(reported, 201)
        self.assertIn("Signalement reçu", reported.text)
        self.assertEqual(self.query("SELECT count(*) FROM report WHERE reason = 'spam'")[0][0], 1)
        again = paul.submit(report_path, {"reason": "spam"})
        self.assertIn("Vous avez déjà signalé ce message", again.text)

        # A moderator's decision in the terminal takes the post off the page.
        target = "post:" + post_path.rsplit("/", 1)[1]
        case_id = next(c["id"] for c in self.ok("mod", "queue", "--json").json() if c["target"] == target)
        self.ok("mod", "hide", case_id, "--reason", "spam", "--as", SANDRINE)
        self.assertNotIn("Perceuse", self.client().get("/quartiers/centre-bourg").text)
        self.assertHtml(self.client().get(post_path), 404)

    def test_markup_in_every_field_is_shown_as_text(self):
        lucie = self.joined(XSS[:60])
        page = lucie.submit("/quartiers/centre-bourg/publier",
                            {"kind": "event", "title": XSS[:120], "body": XSS, "event_date": "2027-06-05",
                             "event_place": XSS})
        self.assertEqual(page.status, 303, page)
        for path in ("/quartiers/centre-bourg", page.header("Location"), "/"):
            shown = lucie.get(path)
            self.assertHtml(shown, 200)
            self.assertNotIn("<img", shown.text)
            self.assertNotIn("<svg", shown.text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", lucie.get("/quartiers/centre-bourg").text)
        search = lucie.get("/annuaire?" + urllib.parse.urlencode({"q": XSS, "quartier": XSS}))
        self.assertHtml(search, 400)
        self.assertNotIn("<img", search.text)
        refused = lucie.submit("/doleances/nouvelle", {"category": XSS, "title": XSS, "description": XSS,
                                                        "address": XSS, "contact_email": XSS})
        self.assertHtml(refused, 422)
        self.assertNotIn("<img", refused.text)
        self.assertIn("&lt;svg onload=alert(3)&gt;</textarea>", refused.text)

    def test_over_long_fields_are_refused_next_to_the_field_and_kept(self):
        lucie = self.joined()
        long_title = "é" * 121
        page = lucie.submit("/quartiers/centre-bourg/publier", {"kind": "discussion", "title": long_title,
                                                                "body": "x" * 4001})
        self.assertHtml(page, 422)
        self.assertIn('<p class="erreur" id="f-title-erreur"><strong>Erreur :</strong> Ce texte est trop long : '
                      "120 caractères au plus (il en compte 121).</p>", page.text)
        self.assertIn('id="f-body-erreur"', page.text)
        self.assertIn(f'value="{long_title}"', page.text)
        grievance = lucie.submit("/doleances/nouvelle", {"category": "voirie", "title": "t" * 201,
                                                         "description": "d" * 4001})
        self.assertHtml(grievance, 422)
        self.assertIn("200 caractères au plus", grievance.text)
        self.assertIn("4000 caractères au plus", grievance.text)
        self.assertEqual((self.count("post"), self.count("grievance")), (0, 0))


class RateLimitTest(WebTest):
    # One request every ten seconds per address, a burst of one: the test's requests take well under ten
    # seconds, so every one after the first is refused whatever the machine's speed.
    server_args = ("--client-rate", "0.1")

    def test_the_per_address_limit_is_explained_in_french_on_pages_and_in_json_on_the_api(self):
        client = self.client()
        statuses = [client.get("/annuaire").status for _ in range(8)]
        self.assertEqual(statuses, [200] + [429] * 7)
        page = client.get("/annuaire")
        self.assertHtml(page, 429)
        self.assertIn("<h1>Trop de demandes</h1>", page.text)
        self.assertTrue(page.header("Retry-After"))
        api = client.get("/api/v1/town")
        self.assertEqual(api.status, 429)
        self.assertEqual(json.loads(api.text)["error"]["code"], "rate_limited")


class GrievanceTest(WebTest):
    FIELDS = {"category": "eclairage_public", "title": "Lampadaire éteint", "description": "Rue de la Paix, depuis lundi.",
              "address": "12 rue de la Paix", "anonymous": "1"}

    def test_an_anonymous_grievance_gets_a_reference_and_a_public_status_page(self):
        client = self.client()
        page = client.submit("/doleances/nouvelle", self.FIELDS)
        self.assertHtml(page, 201)
        reference = re.search(r'<strong class="reference">(DOL-\d{4}-\d{6})</strong>', page.text)[1]
        self.assertIn(f'href="/doleances/{reference}"', page.text)
        row = self.query("SELECT reporter_id, contact_name, channel FROM grievance")
        self.assertEqual(row, [(None, "", "web")])
        self.ok("grievance", "respond", reference, "Une équipe passe jeudi.")
        self.ok("grievance", "status", reference, "in_review", "--note", "note interne à ne pas publier")
        status = client.get(f"/doleances/{reference}")
        self.assertHtml(status, 200)
        self.assertIn("Une équipe passe jeudi.", status.text)
        self.assertNotIn("note interne", status.text)
        followed = client.get("/doleances/suivi?reference=" + reference.lower())
        self.assertEqual((followed.status, followed.header("Location")), (303, f"/doleances/{reference}"))

    def test_a_flood_from_one_client_is_rate_limited_in_french(self):
        client = self.client()
        for _ in range(5):
            self.assertEqual(client.submit("/doleances/nouvelle", self.FIELDS).status, 201)
        page = client.submit("/doleances/nouvelle", self.FIELDS)
        self.assertHtml(page, 429)
        self.assertIn("Vous avez envoyé beaucoup de doléances en peu de temps", page.text)
        self.assertIn('value="Lampadaire éteint"', page.text)
        self.assertEqual(self.count("grievance"), 5)

    def test_the_honeypot_refuses_robots(self):
        page = self.client().submit("/doleances/nouvelle", {**self.FIELDS, "site_web": "http://spam.example"})
        self.assertHtml(page, 400)
        self.assertEqual(self.count("grievance"), 0)

    def test_errors_are_shown_next_to_the_fields_with_the_values_kept(self):
        page = self.client().submit("/doleances/nouvelle", {"category": "", "title": "Banc cassé", "description": "",
                                                             "contact_email": "pas-une-adresse", "postcode": "123"})
        self.assertHtml(page, 422)
        self.assertIn("Le formulaire contient des erreurs (4)", page.text)
        for field in ("category", "description", "contact_email", "postcode"):
            self.assertIn(f'<a href="#f-{field}">', page.text)
            self.assertIn(f'aria-describedby="f-{field}-erreur', page.text)
        self.assertIn('value="Banc cassé"', page.text)
        self.assertIn('<label for="f-title">', page.text)


if __name__ == "__main__":
    harness.main()

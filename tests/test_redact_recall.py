# ruff: noqa: E501  (the cases are data: whole lines of code with secrets in them)
"""Redaction measured on a labelled set written for it (web/redact.py).

Positives: secrets and personal data in the places code keeps them (source, config,
.env, YAML, JSON, SQL, shell, logs, PEM), every value fake but in its real format.
Look-alikes: text that must come back unchanged (lock-file hashes, git SHAs, UUIDs,
version numbers, code that handles passwords without holding one, decorators, slices).
Recall is the share of secret values hidden; the false-positive rate is the share of
look-alike cases changed at all. Targets: recall >= 95%, false positives <= 2%.
"""

from __future__ import annotations

import pytest

from attribution.core.redact import redact

# fmt: off
RSA_BODY = ("MIIEowIBAAKCAQEAeVRsfAGeAbP0VxNjAe9i0mYtluYI0KN1gNT11cUzYZAa3u2olZU6\n"
            "uqbgsYlVvsSghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yKFLf6xuI5aHUQPFeN\n")
POSITIVES: list[tuple[str, str, list[str]]] = [
    # --- provider keys and tokens ------------------------------------------------------------
    ("aws key id, python", 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"\n',
     ["AKIAIOSFODNN7EXAMPLE"]),
    ("aws secret, python", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n',
     ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]),
    ("aws session key, .env", "AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\n", ["ASIAY34FZKBOKMUTVV7A"]),
    ("github classic, shell", "export GITHUB_TOKEN=ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d\n",
     ["ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"]),
    ("github oauth, json", '{"oauth": "gho_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"}\n',
     ["gho_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"]),
    ("github fine-grained, yaml",
     "  gh_pat: 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\n",
     ["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"]),
    ("gitlab, ci yaml", "variables:\n  GL_TOKEN: glpat-KLzdocJ2isAjIhKtJ0Rl\n",
     ["glpat-KLzdocJ2isAjIhKtJ0Rl"]),
    ("slack bot, js", "const client = new WebClient('xoxb-446347861221-3878375762833-flvJfupxqZKm4bV3AyAVHnyr');\n",
     ["xoxb-446347861221-3878375762833-flvJfupxqZKm4bV3AyAVHnyr"]),
    ("slack webhook", 'WEBHOOK = "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/XyZ123abcDEF456ghiJKL789"\n',
     ["T0ABCDEFG/B0ABCDEFG/XyZ123abcDEF456ghiJKL789"]),
    ("stripe live, ruby", 'Stripe.api_key = "sk_live_vWdFrK9xiRGHOY32nfr5pyzP"\n',
     ["sk_live_vWdFrK9xiRGHOY32nfr5pyzP"]),
    ("stripe test, js", "const stripe = require('stripe')('sk_test_CB9t2039bicBTW5ZE9LFaez7');\n",
     ["sk_test_CB9t2039bicBTW5ZE9LFaez7"]),
    ("google api key, html",
     '<script src="https://maps.googleapis.com/maps/api/js?key=AIza75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8"></script>\n',
     ["AIza75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8"]),
    ("twilio api key", "client = Client('SK36b3216fdaeeb975729fae923d5a4fd1', auth)\n",
     ["SK36b3216fdaeeb975729fae923d5a4fd1"]),
    ("sendgrid", "sg = SendGridAPIClient('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')\n",
     ["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"]),
    ("npm, .npmrc", "//registry.npmjs.org/:_authToken=npm_zJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAI\n",
     ["npm_zJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAI"]),
    ("pypi, .pypirc",
     "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmcVOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_T\n",
     ["pypi-AgEIcHlwaS5vcmcVOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_T"]),
    ("openai project key", 'client = OpenAI(api_key="sk-proj-Gr7CmY-uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_PlJhx")\n',
     ["sk-proj-Gr7CmY-uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_PlJhx"]),
    ("anthropic key",
     "ANTHROPIC_API_KEY=sk-ant-api03-pXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUs\n",
     ["pXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUs"]),
    ("hugging face", "login(token='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')\n",
     ["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"]),
    ("jwt in a test",
     'TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"\n',
     ["SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"]),
    ("discord bot", "bot.run('MeLfjVHq8xiM0OGr4hTxoF54.Fzbka8._5ZMs1SWOpQaPRYpzbLGViYXjU2')\n",
     ["MeLfjVHq8xiM0OGr4hTxoF54.Fzbka8._5ZMs1SWOpQaPRYpzbLGViYXjU2"]),
    ("telegram bot", 'bot = telebot.TeleBot("123456789:AAjsQGMrb9h_ImB_LK777pzNk8cL6j5IXAA")\n',
     ["AAjsQGMrb9h_ImB_LK777pzNk8cL6j5IXAA"]),
    ("digitalocean", "DO_TOKEN: dop_v1_d2802827283e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c\n",
     ["dop_v1_d2802827283e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c"]),
    ("azure storage", 'conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=KFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP/tKsf2rcDkdfrUnW5gcF+Ha6ili8GjHEAD6/Wj9Kfz==;EndpointSuffix=core.windows.net"\n',
     ["KFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP/tKsf2rcDkdfrUnW5gcF+Ha6ili8GjHEAD6/Wj9Kfz=="]),
    ("mailchimp", 'MAILCHIMP = "818319478da6bd0c621de49f145fda99-us6"\n',
     ["818319478da6bd0c621de49f145fda99-us6"]),
    ("bearer header, curl",
     'curl -H "Authorization: Bearer gAFTCloiADN5RpVI2XQWhX1ssrKrxqVqmCplppjs" https://api.example.com/v1\n',
     ["gAFTCloiADN5RpVI2XQWhX1ssrKrxqVqmCplppjs"]),
    ("basic auth header", "headers = {'Authorization': 'Basic dXNlcjpwYXNzd29yZDEyMw=='}\n",
     ["dXNlcjpwYXNzd29yZDEyMw=="]),
    ("heroku key (a uuid)", "HEROKU_API_KEY=6a2c8773-e130-f7eb-1973-1662b5e803b6\n",
     ["6a2c8773-e130-f7eb-1973-1662b5e803b6"]),
    ("django secret key", "SECRET_KEY = 'django-insecure-8h2#k!x9q@w3$zv^p0m&r7t*yb6n+e4s1d5f'\n",
     ["django-insecure-8h2#k!x9q@w3$zv^p0m&r7t*yb6n+e4s1d5f"]),
    ("signing key, hex", "signing_key: abf0d7c1c1e21862ab8a18a8902073fec8df4f50947aaeb26c57d21fa5d32826\n",
     ["abf0d7c1c1e21862ab8a18a8902073fec8df4f50947aaeb26c57d21fa5d32826"]),
    ("high-entropy value of a key", 'cfg.key = "ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5y"\n',
     ["ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5y"]),
    ("secret in a kotlin const", 'const val CLIENT_SECRET = "f3a9c1e7b2d84c6a9e0f1b2c3d4e5f60"\n',
     ["f3a9c1e7b2d84c6a9e0f1b2c3d4e5f60"]),
    ("k8s env secret", "env:\n  - name: API_TOKEN\n    value: tok-8f7e6d5c4b3a2910\n",
     ["tok-8f7e6d5c4b3a2910"]),
    # --- passwords -------------------------------------------------------------------------
    ("python password", 'password = "Tr0ub4dor&3"\n', ["Tr0ub4dor&3"]),
    ("django settings", "DATABASES = {'default': {'USER': 'app', 'PASSWORD': 'db-pass-2024'}}\n",
     ["db-pass-2024"]),
    (".env password", "DB_PASSWORD=s3cr3t!pass\n", ["s3cr3t!pass"]),
    ("yaml password", "database:\n  user: app\n  password: hunter2hunter2\n", ["hunter2hunter2"]),
    ("java password", 'private static final String dbPassword = "P@ssw0rd!";\n', ["P@ssw0rd!"]),
    ("go password", 'const adminPass = "letmein123"\n', ["letmein123"]),
    ("js object", "login({ user: 'admin', pass: 'qwerty123' });\n", ["qwerty123"]),
    ("ini password", "[db]\nhost = db.internal\npassword = MyS3cretPass\n", ["MyS3cretPass"]),
    ("php array", "'password' => 'Winter2024!',\n", ["Winter2024!"]),
    ("c# connection string",
     'var cs = "Server=myServer;Database=myDB;User Id=sa;Password=myP4ssword;";\n', ["myP4ssword"]),
    ("url query", 'fetch("https://api.example.com/data?user=bob&api_key=9f8e7d6c5b4a3921&fmt=json")\n',
     ["9f8e7d6c5b4a3921"]),
    ("maven settings.xml", "<server>\n  <id>repo</id>\n  <password>xml-pa55word</password>\n</server>\n",
     ["xml-pa55word"]),
    ("mysql flag", "mysqldump -u root --password=R00tPass! mydb > dump.sql\n", ["R00tPass!"]),
    ("sql identified by", "CREATE USER app IDENTIFIED BY 'ch4ngeM3!';\n", ["ch4ngeM3!"]),
    ("setter call", 'dataSource.setPassword("jdbc-Pa55");\n', ["jdbc-Pa55"]),
    ("comparison", 'if (pwd === "open-sesame-42") { grant(); }\n', ["open-sesame-42"]),
    ("url credentials", 'DATABASE_URL = "postgres://app:Sup3rS3cret@db.internal:5432/app"\n',
     ["Sup3rS3cret"]),
    ("git url credentials", "git clone https://deploy:gh0st-t0ken@git.example.com/team/repo.git\n",
     ["gh0st-t0ken"]),
    ("curl -u", "curl -u admin:Adm1nPass https://jenkins.example.com/api/json\n", ["Adm1nPass"]),
    # --- private keys ----------------------------------------------------------------------
    ("rsa pem", f"-----BEGIN RSA PRIVATE KEY-----\n{RSA_BODY}-----END RSA PRIVATE KEY-----\n",
     ["MIIEowIBAAKCAQEAeVRsfAGeAbP0VxNjAe9i0mYtluYI0KN1gNT11cUzYZAa3u2olZU6"]),
    ("openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n",
     ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"]),
    ("service account json", '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n"}\n',
     ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"]),
    ("pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0a5fEBCADGz9hB5XJ3qJ8z0tKkq9B5mWQ2Yk1bR3JXz\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n",
     ["lQOYBF0a5fEBCADGz9hB5XJ3qJ8z0tKkq9B5mWQ2Yk1bR3JXz"]),
    ("ec key, cut short", "key = '''-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oAoGCCqGSM49\n",
     ["MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oAoGCCqGSM49"]),
    # --- personal data ---------------------------------------------------------------------
    ("email in a comment", "# Maintainer: Jane Roe <jane.roe@example.org>\n", ["jane.roe@example.org"]),
    ("email in a string", 'SUPPORT = "support@company.io"\n', ["support@company.io"]),
    ("email in package.json", '"author": "Sam <sam+npm@mail.co.uk>",\n', ["sam+npm@mail.co.uk"]),
    ("mailto", '<a href="mailto:info@shop.de">Contact</a>\n', ["info@shop.de"]),
    ("public ipv4", 'server = "203.0.113.42"\n', ["203.0.113.42"]),
    ("private ipv4, .env", "HOST=10.12.0.7\n", ["10.12.0.7"]),
    ("ipv4 in a url", 'BASE = "http://192.168.1.20:8080/api"\n', ["192.168.1.20"]),
    ("ipv4 in a log", "Accepted password for root from 198.51.100.23 port 22 ssh2\n",
     ["198.51.100.23"]),
    ("ipv6", 'addr = "2001:db8:85a3::8a2e:370:7334"\n', ["2001:db8:85a3::8a2e:370:7334"]),
    ("ipv6 link-local", "ping fe80::1ff:fe23:4567:890a%eth0\n", ["fe80::1ff:fe23:4567:890a"]),
    ("ipv6 in a url", "curl http://[2001:db8::1]:8080/\n", ["2001:db8::1"]),
]

LOOK_ALIKES: list[tuple[str, str]] = [
    # --- hashes in lock files and manifests --------------------------------------------------
    ("npm integrity", '"integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",\n'),
    ("yarn resolved", 'resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz#679591c564c3bffaae8454cf0b3df370c3d6911c"\n'),
    ("poetry hash", '{file = "requests-2.31.0-py3-none-any.whl", hash = "sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"},\n'),
    ("cargo checksum", 'checksum = "0c2a7ad2d4d0d9f0c8b1a3c74a8d0e5f1a7e2b3c4d5e6f708192a3b4c5d6e7f8"\n'),
    ("go.sum", "golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\n"),
    ("pip hash", "flask==3.0.0 --hash=sha256:21128f47e4e3b9d597a3e8521a329bf56909b690fcc3fa3e477725aa81367638\n"),
    ("docker digest", "image: nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31\n"),
    ("checksum yaml", "checksum: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n"),
    ("md5 constant", 'const hash = "5d41402abc4b2a76b9719d911017c592";\n'),
    ("base64 image", 'ICON = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="\n'),
    # --- git SHAs, UUIDs, versions -----------------------------------------------------------
    ("sha in a comment", "# fixed in commit 9fceb02d0ae598e95dc970b74767f19372d61af8\n"),
    ("pre-commit rev", "-   repo: https://github.com/psf/black\n    rev: a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\n"),
    ("short sha", "See 3f2a9c1 and e83c516 for details.\n"),
    ("github api json", '{"sha": "e83c5163316f89bfbd7d9ab23ca2e25604af2901", "node_id": "MDY6Q29tbWl0"}\n'),
    ("uuid", 'id = "123e4567-e89b-12d3-a456-426614174000"\n'),
    ("c# guid", '[Guid("6B29FC40-CA47-1067-B31D-00DD010662DA")]\n'),
    ("version", '__version__ = "1.2.3"\n'),
    ("assembly version", '[assembly: AssemblyVersion("1.0.0.0")]\n'),
    ("four-part version in yaml", "version: 2.1.0.4\n"),
    ("pinned requirement", "numpy==1.26.4\nrequests>=2.31.0.1\n"),
    ("npm version spec", "npx create-react-app@5.0.1 my-app && npm i lodash@4.17.21\n"),
    ("oid", 'OID_CODE_SIGNING = "1.3.6.1.5.5.7.3.3"\n'),
    ("windows build", 'BUILD = "10.0.19041.1"\n'),
    # --- code that handles secrets without holding one ---------------------------------------
    ("check password", "if not check_password(password, user.password_hash):\n    raise Denied()\n"),
    ("form field", 'password = request.form["password"]\n'),
    ("token type", 'token_type = "Bearer"\n'),
    ("bearer f-string", 'headers = {"Authorization": f"Bearer {token}"}\n'),
    ("header name", 'API_KEY_HEADER = "X-API-Key"\n'),
    ("django field", "password = forms.CharField(widget=forms.PasswordInput)\n"),
    ("min length", "PASSWORD_MIN_LENGTH = 12\n"),
    ("token url", 'TOKEN_URL = "https://oauth2.googleapis.com/token"\n'),
    ("secret name", 'secret_name = "prod/db/password"\n'),
    ("env lookup", 'api_key = os.environ["OPENAI_API_KEY"]\n'),
    ("annotations", "class User:\n    password: str\n    token: Optional[str] = None\n"),
    ("typescript", "interface Login {\n  password: string;\n  apiKey?: string;\n}\n"),
    ("doc url", "Connect with postgres://user:password@localhost:5432/mydb\n"),
    ("placeholder key", 'api_key = "YOUR_API_KEY"\n'),
    ("templated password", 'password: "${DB_PASSWORD}"\n'),
    ("param constant", 'private static final String PASSWORD_PARAM = "password";\n'),
    ("basic auth object", "auth = HTTPBasicAuth(username, password)\n"),
    ("ruby accessor", "attr_accessor :password, :password_confirmation\n"),
    ("go struct tag", 'type Login struct {\n\tPassword string `json:"password"`\n}\n'),
    ("lexer token", 'token = next(tokens)\nif token == "+":\n    return PLUS\n'),
    ("hashpw", "password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())\n"),
    ("getter call", 'pw = keyring.get_password("myapp", "alice")\n'),
    ("kwargs", "conn = connect(host=host, user=user, password=password)\n"),
    ("env default", 'secret = os.environ.get("APP_SECRET", "")\n'),
    # --- e-mail and IP look-alikes -----------------------------------------------------------
    ("matrix product", "y = w@x.reshape(-1, 1) + b\n"),
    ("retina image", '<img src="logo@2x.png" alt="logo">\n'),
    ("git remote", "git remote add origin git@github.com:pallets/flask.git\n"),
    ("scoped package", '"@babel/core": "^7.23.0",\n'),
    ("decorator", '@app.route("/login", methods=["POST"])\ndef login():\n'),
    ("css at-rules", "@media (max-width: 600px) { .a { color: #fff; } }\n"),
    ("c++ scopes", "std::vector<int> v; Face::add(v); ns::Dead::beef();\n"),
    ("python slices", "odd = a[1::2]\nrev = b[::-1]\nc = d[10::200]\n"),
    ("clock and mac", 'at = "12:30:45"\nmac = "00:1A:2B:3C:4D:5E"\n'),
    ("localhost", 'app.run(host="0.0.0.0", port=5000)\nLOCAL = "127.0.0.1"\n'),
    ("netmask", 'NETMASK = "255.255.255.0"\n'),
    ("ipv6 loopback", 'HOST6 = "::1"\n'),
    ("hex literal", "MAGIC = 0xDEADBEEFCAFEBABE\n"),
    ("logging format", 'FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"\n'),
    ("dict iteration", "for key, value in mapping.items():\n    print(f'{key}={value}')\n"),
]
# fmt: on


def measure() -> tuple[float, float, list[str], list[str]]:
    """(recall, false-positive rate, missed secrets, changed look-alikes)."""
    missed, total = [], 0
    for name, text, secrets in POSITIVES:
        out = redact(text)
        total += len(secrets)
        missed += [f"{name}: {s}" for s in secrets if s in out]
    changed = [name for name, text in LOOK_ALIKES if redact(text) != text]
    recall = 1 - len(missed) / total
    return recall, len(changed) / len(LOOK_ALIKES), missed, changed


def test_the_set_is_big_enough() -> None:
    assert len(POSITIVES) + len(LOOK_ALIKES) >= 40
    assert len(POSITIVES) >= 40 and len(LOOK_ALIKES) >= 40


def test_recall_and_false_positive_rate(capsys: pytest.CaptureFixture[str]) -> None:
    recall, fp_rate, missed, changed = measure()
    with capsys.disabled():
        print(
            f"\nredaction: recall {recall:.1%} of {sum(len(s) for *_, s in POSITIVES)} secrets "
            f"in {len(POSITIVES)} cases; false positives {fp_rate:.1%} of "
            f"{len(LOOK_ALIKES)} look-alikes"
        )
        for m in missed:
            print(f"  missed: {m}")
        for c in changed:
            print(f"  changed: {c}: {redact(dict(LOOK_ALIKES)[c])!r}")
    assert recall >= 0.95, missed
    assert fp_rate <= 0.02, changed


@pytest.mark.parametrize(("name", "text", "secrets"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_lines_and_surroundings_stay(name: str, text: str, secrets: list[str]) -> None:
    out = redact(text)
    assert out.count("\n") == text.count("\n")
    assert "[REDACTED:" in out
    assert redact(out) == out  # idempotent

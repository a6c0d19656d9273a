"""A small Flask inventory service. Clients authenticate with a bearer token (flask-login's
request_loader). No Sentry here: sentry.yaml and the hook do that."""
from flask import Flask, request
from flask_login import LoginManager, UserMixin, login_required

from inventory import stock

app = Flask(__name__)
app.secret_key = "e2e-inventory-not-secret"
login_manager = LoginManager(app)


class Clerk(UserMixin):
    def __init__(self, id, username, email):
        self.id = id
        self.username = username
        self.email = email


CLERKS = {"tok-inventory-e2e-secret": Clerk(7, "bob", "bob@example.invalid")}


@login_manager.request_loader
def clerk_from_token(req):
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    return CLERKS.get(token) if scheme == "Bearer" else None


@app.route("/health")
def health():
    return "ok"


@app.route("/stock/<sku>/reserve", methods=["POST"])
@login_required
def reserve(sku):
    return stock.reserve(sku, int(request.form["quantity"]), request.form.get("note", ""))

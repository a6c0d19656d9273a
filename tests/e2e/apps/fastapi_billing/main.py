"""A small FastAPI billing service behind Starlette's AuthenticationMiddleware. No Sentry here:
sentry.yaml and the hook do that."""
from fastapi import FastAPI, Request
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware

from billing import invoices


class Accountant(BaseUser):
    def __init__(self, id, username, email):
        self.id = id
        self.username = username
        self.email = email

    @property
    def is_authenticated(self):
        return True

    @property
    def display_name(self):
        return self.username

    @property
    def identity(self):
        return str(self.id)


TOKENS = {"tok-billing-e2e-secret": Accountant(42, "carol", "carol@example.invalid")}


class BearerBackend(AuthenticationBackend):
    async def authenticate(self, conn):
        scheme, _, token = conn.headers.get("Authorization", "").partition(" ")
        user = TOKENS.get(token) if scheme == "Bearer" else None
        return (AuthCredentials(["authenticated"]), user) if user else None


app = FastAPI(middleware=[Middleware(AuthenticationMiddleware, backend=BearerBackend())])


@app.get("/health")
async def health():
    return {"ok": True}


@app.post("/invoices/{invoice_id}/render")
async def render(invoice_id: int, request: Request):
    body = await request.json()
    return {"pdf": invoices.render(invoice_id, body.get("note", ""))}

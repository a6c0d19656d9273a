"""Plain FastAPI and Starlette apps with Starlette's AuthenticationMiddleware: no Sentry code."""
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

TOKEN = "Bearer token-of-user-7"


class TokenUser(SimpleUser):
    def __init__(self, user_id, username, email):
        super().__init__(username)
        self.id = user_id
        self.email = email


class TokenBackend(AuthenticationBackend):
    async def authenticate(self, conn):
        if conn.headers.get("authorization") == TOKEN:
            return AuthCredentials(["authenticated"]), TokenUser("7", "carol.api",
                                                                 "carol@example.invalid")
        return None


async def fail(item_id: int):
    raise RuntimeError("item {} failed".format(item_id))


def create_fastapi():
    app = FastAPI()
    app.add_middleware(AuthenticationMiddleware, backend=TokenBackend())
    app.get("/items/{item_id}/fail")(fail)
    return app


async def order_fail(request):
    raise RuntimeError("order {} failed".format(request.path_params["order_id"]))


async def ok(request):
    return PlainTextResponse("ok")


def create_starlette():
    return Starlette(
        routes=[Route("/ok", ok),
                Mount("/shop", routes=[Route("/orders/{order_id:int}", order_fail)])],
        middleware=[Middleware(AuthenticationMiddleware, backend=TokenBackend())])

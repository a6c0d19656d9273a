"""A plain Flask app with flask-login: no Sentry code."""
from flask import Flask
from flask_login import LoginManager, UserMixin, login_user


class User(UserMixin):
    def __init__(self, user_id, username, email):
        self.id = user_id
        self.username = username
        self.email = email


USERS = {"42": User("42", "bob.flask", "bob@example.invalid")}
# Every user_loader call, so a test can see whether anything loaded the user.
LOADS = []


def load_user(user_id):
    LOADS.append(user_id)
    return USERS.get(user_id)


def create_app():
    app = Flask(__name__)
    app.secret_key = "test-only-not-secret"
    manager = LoginManager(app)
    manager.user_loader(load_user)

    @app.route("/login/<user_id>")
    def login(user_id):
        login_user(USERS[user_id])
        return "ok"

    @app.route("/items/<int:item_id>/fail")
    def fail(item_id):
        raise RuntimeError("item {} failed".format(item_id))

    @app.route("/ok")
    def ok():
        return "ok"

    return app

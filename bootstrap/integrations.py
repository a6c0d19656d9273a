"""The one table of integrations the hook knows: filled in by the activation layer."""


def names():
    """Every integration name accepted in `integrations.enabled` / `integrations.disabled`."""
    return sorted(_NAMES)


_NAMES = {
    "aiohttp", "anthropic", "argv", "ariadne", "arq", "asyncio", "asyncpg", "atexit", "aws_lambda",
    "beam", "boto3", "bottle", "celery", "chalice", "clickhouse_driver", "cloud_resource_context",
    "cohere", "dedupe", "django", "dramatiq", "excepthook", "executing", "falcon", "fastapi", "flask",
    "gcp", "gnu_backtrace", "gql", "graphene", "grpc", "httpx", "huey", "huggingface_hub",
    "langchain", "launchdarkly", "litestar", "logging", "loguru", "modules", "openai", "openfeature",
    "pure_eval", "pymongo", "pyramid", "quart", "ray", "redis", "rq", "rust_tracing", "sanic",
    "serverless", "socket", "spark", "sqlalchemy", "starlette", "starlite", "statsig", "stdlib",
    "strawberry", "sys_exit", "threading", "tornado", "trytond", "typer", "unleash", "wsgi",
}

"""Plain Django views: no Sentry code."""
from django.http import HttpResponse


def fail(request, pk):
    raise RuntimeError("item {} failed".format(pk))


async def async_fail(request, name):
    raise RuntimeError("async {} failed".format(name))


def ok(request):
    return HttpResponse("ok")

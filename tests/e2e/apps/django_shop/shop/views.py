from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from shop import payments


def health(request):
    return HttpResponse("ok")


@csrf_exempt  # an API endpoint for the shop's payment terminal
@login_required
def pay(request, order_id):
    receipt = payments.charge(order_id, request.POST["card_number"], request.POST.get("note", ""))
    return HttpResponse(receipt)

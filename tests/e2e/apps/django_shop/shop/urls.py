from django.contrib.auth import views as auth_views
from django.urls import path

from shop import views

urlpatterns = [
    path("health/", views.health),
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("orders/<int:order_id>/pay/", views.pay),
]

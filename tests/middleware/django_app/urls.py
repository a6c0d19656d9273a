from django.urls import path

from tests.middleware.django_app import views

urlpatterns = [
    path("items/<int:pk>/fail/", views.fail),
    path("async/<slug:name>/fail/", views.async_fail),
    path("ok/", views.ok),
]

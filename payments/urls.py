from django.urls import path

from . import apis

urlpatterns = [
    path("payments", apis.PaymentListCreateApi.as_view(), name="payment-list"),
    path("payments/<uuid:payment_id>", apis.PaymentDetailApi.as_view(), name="payment-detail"),
    path("payments/<uuid:payment_id>/events", apis.PaymentEventsApi.as_view(), name="payment-events"),
    path("payments/<uuid:payment_id>/capture", apis.PaymentCaptureApi.as_view(), name="payment-capture"),
    path("payments/<uuid:payment_id>/cancel", apis.PaymentCancelApi.as_view(), name="payment-cancel"),
    path("payments/<uuid:payment_id>/refunds", apis.PaymentRefundApi.as_view(), name="payment-refunds"),
    path("webhooks/<str:provider>", apis.WebhookApi.as_view(), name="webhook"),
]

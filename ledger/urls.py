from django.urls import path

from . import apis

urlpatterns = [
    path("accounts", apis.AccountListCreateApi.as_view(), name="account-list"),
    path("accounts/<uuid:account_id>", apis.AccountDetailApi.as_view(), name="account-detail"),
    path("accounts/<uuid:account_id>/entries", apis.AccountEntriesApi.as_view(), name="account-entries"),
    path("accounts/<uuid:account_id>/balance", apis.AccountBalanceApi.as_view(), name="account-balance"),
    path("transfers", apis.TransferListCreateApi.as_view(), name="transfer-list"),
    path("transfers/batch", apis.TransferBatchApi.as_view(), name="transfer-batch"),
    path("transfers/<uuid:transfer_id>", apis.TransferDetailApi.as_view(), name="transfer-detail"),
    path("transfers/<uuid:transfer_id>/post", apis.HoldPostApi.as_view(), name="transfer-post"),
    path("transfers/<uuid:transfer_id>/void", apis.HoldVoidApi.as_view(), name="transfer-void"),
]

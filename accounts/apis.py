"""Auth endpoints: register, obtain and rotate JWT pairs, log out."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from core.api.schema import problem_responses
from core.errors import ApiError

from .serializers import (
    LogoutInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
)
from .services import user_register
from .throttles import LoginFailureThrottle


class PublicApi(APIView):
    """No authentication needed; failures still answer 401 with a Bearer challenge, never 403."""

    permission_classes = [AllowAny]
    authentication_classes: list[type[BaseAuthentication]] = []

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class RegisterApi(PublicApi):
    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: UserOutputSerializer, **problem_responses(400, 409)},
        tags=["auth"],
        summary="Register a client user",
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(PublicApi):
    @extend_schema(
        request=TokenObtainPairSerializer,
        responses={200: TokenPairOutputSerializer, **problem_responses(400, 401, 429)},
        tags=["auth"],
        summary="Log in: obtain an access and refresh token pair",
    )
    def post(self, request: Request) -> Response:
        throttle = LoginFailureThrottle()
        if not throttle.allow_request(request, self):
            raise Throttled(throttle.wait())
        serializer = TokenObtainPairSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            throttle.record_failure(request, self)
            raise
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


class TokenRefreshApi(PublicApi):
    @extend_schema(
        request=TokenRefreshSerializer,
        responses={200: TokenPairOutputSerializer, **problem_responses(400, 401)},
        tags=["auth"],
        summary="Rotate a refresh token: a new pair, the old refresh is blacklisted",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


class LogoutApi(PublicApi):
    @extend_schema(
        request=LogoutInputSerializer,
        responses={204: None, **problem_responses(400, 401)},
        tags=["auth"],
        summary="Log out: blacklist a refresh token",
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise ApiError(
                "token_not_valid", "The refresh token is invalid, expired or already revoked.", status=401
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

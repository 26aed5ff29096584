"""The request every authenticated API view receives: DRF's Request whose user is a signed-in `User`.

The default permission (IsAuthenticated) refuses anonymous requests before a handler runs, so an API
handler annotated with this type may pass `request.user` to services that take the user model.
"""

from typing import TYPE_CHECKING

from rest_framework.request import Request

from .models import User

if TYPE_CHECKING:

    class AuthenticatedRequest(Request):
        @property
        def user(self) -> User: ...
        @user.setter
        def user(self, value: User) -> None: ...

else:
    AuthenticatedRequest = Request

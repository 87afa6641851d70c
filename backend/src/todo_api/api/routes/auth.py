from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from todo_api.api.deps import (
    CurrentUserId,
    DbDep,
    LimiterDep,
    SettingsDep,
    client_ip,
)
from todo_api.core.security import create_access_token
from todo_api.schemas import LoginIn, SignupIn, TokenOut, UserOut
from todo_api.services import users
from todo_api.services.errors import Unauthorized

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _token_for(user: users.Account, settings: SettingsDep, response: Response) -> TokenOut:
    # The body carries a bearer token: no browser, proxy or CDN may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    token = create_access_token(
        user.id,
        settings.auth_secret.get_secret_value(),
        settings.access_token_expire_minutes,
        issued_at=user.created_at,  # never before the account (a clock stepping back)
    )
    return TokenOut(access_token=token, user=UserOut.model_validate(user))


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=TokenOut)
async def signup(
    body: SignupIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> TokenOut:
    # Sign-ups share the login allowance per IP so accounts cannot be mass-created.
    await limiter.consume(limiter.parse(settings.login_rate_limit), f"signup:{client_ip(request)}")
    user = await users.create_user(
        db, request.app.state.password_hashing, body.email, body.password, body.name
    )
    return _token_for(user, settings, response)


@router.post("/login", response_model=TokenOut)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> TokenOut:
    limit = limiter.parse(settings.login_rate_limit)
    ip_key = f"login:ip:{client_ip(request)}"
    await limiter.check(limit, ip_key)  # only failed attempts count against the allowance
    try:
        user = await users.authenticate(
            db, request.app.state.password_hashing, body.email, body.password
        )
    except Unauthorized:
        await limiter.hit(limit, ip_key)
        # Per email, only the failures are limited, and only after the password was checked:
        # strangers' wrong guesses never lock the owner's right password out.
        await limiter.consume(limit, f"login:email:{users.normalize_email(body.email)}")
        raise
    return _token_for(user, settings, response)


@router.get("/me", response_model=UserOut)
async def me(user_id: CurrentUserId, db: DbDep) -> UserOut:
    user = await users.get_user(db, user_id)
    if user is None:  # a deleted account's token
        raise Unauthorized(users.INVALID_TOKEN)
    return UserOut.model_validate(user)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(user_id: CurrentUserId, db: DbDep) -> Response:
    """Delete the account with all its tasks and conversations."""
    await users.delete_user(db, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

import { Type } from 'typebox';

export const UserSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const RegisterBody = Type.Object({
  name: Type.String(),
  email: Type.String({ format: 'email', maxLength: 255 }),
  password: Type.String({ minLength: 8, maxLength: 255 }),
  password_confirmation: Type.String(),
});

export const LoginBody = Type.Object({
  email: Type.String({ maxLength: 255 }),
  password: Type.String({ maxLength: 255 }),
});

export const AuthResult = Type.Object({ user: UserSchema, token: Type.String() });
export const MessageSchema = Type.Object({ message: Type.String() });
export const ValidationErrorSchema = Type.Object({
  message: Type.String(),
  errors: Type.Record(Type.String(), Type.Array(Type.String())),
});
/** 429: the per-address limit says `{message}`; the per-account throttle adds `errors.email`, as Laravel's ThrottlesLogins does. */
export const TooManyAttemptsSchema = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
});

// The console's error catalogue: who may do what, and what they sent wrong.
import { defineError } from '../src/errors.ts';

export const ConsoleLoginRequired = defineError('ESEAL_ERR_CONSOLE_LOGIN_REQUIRED', 401, 'no session, or it expired or was ended: log in');
export const ConsoleBadCredentials = defineError('ESEAL_ERR_CONSOLE_BAD_CREDENTIALS', 401, 'wrong console user name or password');
export const ConsoleRateLimited = defineError('ESEAL_ERR_CONSOLE_RATE_LIMITED', 429, 'too many failed logins from this address or for this user; wait and try again');
export const ConsoleForbidden = defineError('ESEAL_ERR_CONSOLE_FORBIDDEN', 403, "the user's role does not allow this action");
export const ConsoleCsrf = defineError('ESEAL_ERR_CONSOLE_CSRF', 403, 'a changing request without the session\'s CSRF token (x-csrf-token or _csrf), or from another origin');
export const ConsoleInvalid = defineError('ESEAL_ERR_CONSOLE_INVALID', 400, 'a field of the request breaks its rule (the message names it)');
export const ConsoleNotFound = defineError('ESEAL_ERR_CONSOLE_NOT_FOUND', 404, 'no such page or API path of the console');
export const ConsoleUserExists = defineError('ESEAL_ERR_CONSOLE_USER_EXISTS', 409, 'a console user of that name exists already');
export const ConsoleUserUnknown = defineError('ESEAL_ERR_CONSOLE_USER_UNKNOWN', 404, 'no console user of that name');
export const ConsoleLiveLimit = defineError('ESEAL_ERR_CONSOLE_LIVE_LIMIT', 429, 'as many live streams open as the session (or the console) may hold; close one first');
export const ConsoleUpstream = defineError('ESEAL_ERR_CONSOLE_UPSTREAM', 502, "the relay's (or bridge's) admin API did not answer or refused the console");
export const ConsoleInternal = defineError('ESEAL_ERR_CONSOLE_INTERNAL', 500, 'an unexpected error inside the console (the log has it, by request id)');

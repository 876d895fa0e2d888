/**
 * One request from start to finish, in CouchDB's order: URL checks,
 * authentication, then the router (authorization, method, handler). Every
 * failure, whatever it is, ends in `renderError`; nothing a client sends can
 * take the process down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionCookieName, readCookie } from '../auth/session-cookie.js';
import { checkUrlEncoding } from './path.js';
import { RequestContext } from './request.js';
import type { ResponseSettings } from './response.js';
import { renderError } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export interface Pipeline {
  (request: IncomingMessage, response: ServerResponse): Promise<void>;
}

export function createPipeline(router: Router, services: HttpServices, settings: ResponseSettings): Pipeline {
  return async (request, response) => {
    let ctx: RequestContext;
    try {
      ctx = new RequestContext(request, response, {
        requestIdCharsMax: services.httpLimits.requestIdCharsMax,
        nowMs: Date.now(),
        settings,
      });
    } catch (error) {
      services.logger.error(`could not read request ${request.method} ${request.url}: ${String(error)}`);
      response.statusCode = 400;
      response.end();
      return;
    }
    try {
      checkUrlEncoding(request.url ?? '/');
      const credentials = {
        authorization: ctx.header('authorization'),
        sessionCookie: readCookie(ctx.header('cookie'), sessionCookieName),
        peer: ctx.peer,
      };
      const auth =
        services.authenticator.authenticateSync(credentials) ?? (await services.authenticator.authenticate(credentials));
      ctx.user = auth.user;
      ctx.authMethod = auth.method;
      ctx.refreshedCookie = auth.refreshedCookie;
      await router.dispatch(ctx, services);
      if (!response.headersSent) throw new Error(`assertion failed: handler for ${ctx.method} ${ctx.rawPath} sent no response`);
    } catch (error) {
      try {
        renderError(ctx, error);
      } catch (renderFailure) {
        services.logger.error(`could not render an error: ${String(renderFailure)}`);
        response.destroy();
      }
    } finally {
      services.logger.info(
        `${ctx.peer} - ${ctx.originalMethod} ${request.url ?? '/'} ${response.statusCode} ${Date.now() - ctx.startedAtMs}ms`,
      );
    }
  };
}

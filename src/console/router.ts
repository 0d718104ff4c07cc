import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, Principal } from '../access/principal.ts';
import { AppError } from '../errors/app-error.ts';
import type { SafeHtml } from '../http/html.ts';
import type { Services } from '../routes.ts';
import type { Session } from '../sessions/session-store.ts';
import { type Frame, layout } from './layout.ts';
import { sendConsolePage } from './respond.ts';

/** Everything a console handler gets: the request's caller (as `/v1` would see it) and its form and query. */
export interface ConsoleContext {
  request: FastifyRequest;
  reply: FastifyReply;
  services: Services;
  principal: Principal;
  caller: Caller;
  session: Session;
  /** The CSRF token for forms on the page. */
  csrf: string;
  params: Record<string, string>;
  /** Query values, first of each, trimmed. */
  query: Record<string, string | undefined>;
  /** Form fields (POST), first of each. */
  form: Record<string, string | undefined>;
  /** True for an htmx request (polling, search, tab switch): answer with the fragment only. */
  partial: boolean;
}

/** A rendered page: the title, the navigation section, the body; `fragment` is what htmx gets instead. */
export interface Rendered {
  title: string;
  section: string;
  body: SafeHtml;
  fragment?: SafeHtml;
  status?: number;
}

/** What an action (POST) does next: back to a page with a notice, or a page of its own (a secret shown once). */
export type ActionResult = { redirect: string; notice?: NoticeCode } | Rendered;

/** Notices an action can leave for the page it returns to (codes in the URL, texts here: no text injection). */
export const NOTICES = {
  done: 'Done.',
  requested: 'Requested. The page refreshes until the backend answers.',
  replayed: 'Failed deliveries queued again.',
  resent: 'Delivery queued again.',
  rotated: 'Secret rotated.',
  revoked: 'Revoked.',
  updated: 'Saved.',
  created: 'Created.',
  sent: 'Test event sent.',
} as const;
/** The code of a notice in {@link NOTICES}. */
export type NoticeCode = keyof typeof NOTICES;

/** How a console feature registers its pages and actions: written out, one path each. */
export interface ConsoleRouter {
  page(path: string, handler: (context: ConsoleContext) => Promise<Rendered>): void;
  action(path: string, handler: (context: ConsoleContext) => Promise<ActionResult>): void;
}

/** Makes the router a feature's register function receives; `contextOf` resolves the session (see console.routes.ts). */
export function createRouter(
  scope: FastifyInstance,
  contextOf: (request: FastifyRequest, reply: FastifyReply) => ConsoleContext,
): ConsoleRouter {
  const options = { config: { public: true }, schema: { hide: true } } as const;
  const render = (context: ConsoleContext, rendered: Rendered) => {
    if (context.partial && rendered.fragment) return sendConsolePage(context.reply, rendered.status ?? 200, rendered.fragment);
    const frame: Frame = {
      principal: context.principal,
      csrf: context.csrf,
      section: rendered.section,
      notice: noticeText(context.query.notice),
    };
    return sendConsolePage(context.reply, rendered.status ?? 200, layout(rendered.title, frame, rendered.body));
  };
  return {
    page(path, handler) {
      scope.get(path, options, async (request, reply) => {
        const context = contextOf(request, reply);
        return render(context, await handler(context));
      });
    },
    action(path, handler) {
      scope.post(path, options, async (request, reply) => {
        const context = contextOf(request, reply);
        const result = await handler(context);
        if ('redirect' in result) {
          const separator = result.redirect.includes('?') ? '&' : '?';
          return reply.redirect(result.notice ? `${result.redirect}${separator}notice=${result.notice}` : result.redirect, 303);
        }
        return render(context, result);
      });
    },
  };
}

/** Refuses (422) a destructive action unless the form's `confirm` field names the object exactly. */
export function requireConfirmation(context: ConsoleContext, objectName: string): void {
  if ((context.form.confirm ?? '').trim() !== objectName) {
    throw new AppError('console.confirmation_required', {
      message: `Type "${objectName}" to confirm; nothing was changed`,
      parameter: 'confirm',
    });
  }
}

function noticeText(code: string | undefined): string | undefined {
  return code && Object.hasOwn(NOTICES, code) ? NOTICES[code as NoticeCode] : undefined;
}

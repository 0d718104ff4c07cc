/**
 * Every error code Landlord answers with, in one place. A code is a stable dotted
 * string clients may branch on; `status` is the HTTP status; `sysCode` is the numeric
 * string the RoSaaS envelope carries. Each code has a sysCode of its own, except that every
 * `*.not_found` carries 1005, RoSaaS's own "does not exist or you don't have access": a
 * missing object and one the caller may not see answer alike (`test/conventions.test.ts`).
 */
export const ERROR_CODES = {
  // request shape
  'request.invalid': { status: 400, sysCode: '1001', message: 'The request is not valid' },
  'request.malformed_json': { status: 400, sysCode: '1002', message: 'The request body is not valid JSON' },
  'request.unknown_field': { status: 400, sysCode: '1003', message: 'The request has a field this endpoint does not accept' },
  'request.body_too_large': { status: 413, sysCode: '1004', message: 'The request body is larger than 1 MiB' },
  'request.unsupported_media_type': { status: 415, sysCode: '1006', message: 'The request body must be application/json' },
  'request.route_not_found': { status: 404, sysCode: '1007', message: 'No such endpoint' },
  'request.method_not_allowed': { status: 405, sysCode: '1008', message: 'The endpoint does not accept this method' },
  'request.invalid_cursor': { status: 400, sysCode: '1009', message: 'The cursor is not one this list handed out' },
  'request.rate_limited': { status: 429, sysCode: '1010', message: 'Too many requests for this credential' },
  'request.precondition_failed': { status: 412, sysCode: '1011', message: 'The resource changed since the ETag given in If-Match' },
  'request.invalid_if_match': { status: 400, sysCode: '1012', message: 'If-Match must be an ETag this API handed out' },

  // idempotency
  'idempotency.key_reused': { status: 422, sysCode: '1020', message: 'This Idempotency-Key was used with a different request' },
  'idempotency.in_progress': { status: 409, sysCode: '1021', message: 'A request with this Idempotency-Key is still in progress' },
  'idempotency.invalid_key': { status: 400, sysCode: '1022', message: 'Idempotency-Key must be 1 to 255 printable characters' },

  // access
  'auth.missing_credential': { status: 401, sysCode: '1100', message: 'Send a credential: Authorization: Bearer <key or token>' },
  'auth.invalid_credential': { status: 401, sysCode: '1101', message: 'The credential is not valid, expired or revoked' },
  'auth.forbidden': { status: 403, sysCode: '1102', message: 'This credential may not do that' },
  'auth.invalid_client': { status: 400, sysCode: '1103', message: 'Unknown client, wrong secret, or the secret expired or was revoked' },
  'auth.unsupported_grant_type': { status: 400, sysCode: '1104', message: 'Only grant_type=client_credentials is supported' },
  'api_key.not_found': { status: 404, sysCode: '1005', message: 'No such API key' },

  // catalogue
  'product.not_found': { status: 404, sysCode: '1005', message: 'No such product' },
  'product.name_taken': { status: 409, sysCode: '1201', message: 'A product with this name exists already' },
  'product.in_use': { status: 409, sysCode: '1202', message: 'The product still has tenants' },
  'webhook_endpoint.not_found': { status: 404, sysCode: '1005', message: 'No such webhook endpoint' },
  'delivery.not_found': { status: 404, sysCode: '1005', message: 'No such delivery' },
  'client.not_found': { status: 404, sysCode: '1005', message: 'No such client' },
  'client.revoked': { status: 409, sysCode: '1203', message: 'The client is revoked' },
  'plan.not_found': { status: 404, sysCode: '1005', message: 'No such plan' },
  'plan.name_taken': { status: 409, sysCode: '1211', message: 'A plan with this name exists already in this product' },
  'plan.in_use': { status: 409, sysCode: '1212', message: 'The plan is still in use' },
  'price.not_found': { status: 404, sysCode: '1005', message: 'No such plan price' },
  'price.name_taken': { status: 409, sysCode: '1221', message: 'A price with this name exists already in this product' },
  'price.in_use': { status: 409, sysCode: '1222', message: 'The price is still in use by tenants' },
  'price.not_published': { status: 400, sysCode: '1223', message: 'The plan price or its plan is not published' },
  'feature.not_found': { status: 404, sysCode: '1005', message: 'No such feature' },
  'feature.name_taken': { status: 409, sysCode: '1231', message: 'A feature with this name exists already in this product' },
  'feature.in_use': { status: 409, sysCode: '1232', message: 'The feature is still attached to plans' },
  'plan_feature.not_found': { status: 404, sysCode: '1005', message: 'The feature is not attached to this plan' },
  'plan_feature.exists': { status: 409, sysCode: '1241', message: 'The feature is attached to this plan already' },
  'specification.not_found': { status: 404, sysCode: '1005', message: 'No such specification' },
  'specification.name_taken': { status: 409, sysCode: '1251', message: 'A specification with this name exists already in this product' },
  'specification.in_use': { status: 409, sysCode: '1252', message: 'Tenants have values for this specification' },
  'specification.invalid_pattern': { status: 400, sysCode: '1253', message: 'The pattern is not a valid regular expression' },
  'specification.unsafe_pattern': { status: 400, sysCode: '1254', message: 'The pattern could take exponential time on some inputs' },
  'specification.changed_concurrently': {
    status: 409,
    sysCode: '1255',
    message: "The product's specifications kept changing while the tenant was written; try again",
  },

  // tenants
  'tenant.not_found': { status: 404, sysCode: '1005', message: 'No such tenant' },
  'tenant.name_taken': { status: 409, sysCode: '1301', message: 'A tenant with this name exists already' },
  'tenant.invalid_specification': { status: 400, sysCode: '1302', message: 'A specification value is missing or not valid' },
  'tenant.invalid_plan': { status: 400, sysCode: '1304', message: "The plan price given does not exist in the tenant's product" },
  'tenant.transition_not_allowed': { status: 409, sysCode: '1303', message: 'The tenant cannot take this action in its current status' },

  // people: permissions, roles, users, memberships, invitations
  'permission.not_found': { status: 404, sysCode: '1005', message: 'The product defines no such permission' },
  'permission.unknown': { status: 400, sysCode: '1401', message: 'The product defines no such permission' },
  'permission.not_held': { status: 403, sysCode: '1402', message: 'Nobody can grant a permission they do not hold' },
  'permission.name_taken': { status: 409, sysCode: '1403', message: 'The product defines this permission already' },
  'permission.in_use': { status: 409, sysCode: '1404', message: 'Roles, users or connections still hold this permission' },
  'role.unknown': { status: 400, sysCode: '1411', message: 'The product defines no such role' },
  'role.name_taken': { status: 409, sysCode: '1412', message: 'The product defines a role with this name already' },
  'user.not_found': { status: 404, sysCode: '1005', message: 'No such user' },
  'membership.not_found': { status: 404, sysCode: '1005', message: 'No user with this login in the tenant' },
  'membership.login_taken': { status: 409, sysCode: '1421', message: 'The tenant has a user with this login already' },
  'membership.exists': { status: 409, sysCode: '1422', message: 'This person belongs to the tenant already' },
  'membership.not_active': { status: 409, sysCode: '1423', message: 'The user has not accepted the invitation yet' },
  'membership.last_owner': { status: 409, sysCode: '1424', message: 'The tenant would be left without an owner' },
  'invitation.not_found': { status: 404, sysCode: '1005', message: 'No such invitation, or it was accepted already' },
  'invitation.expired': { status: 410, sysCode: '1431', message: 'The invitation expired; ask for a new one' },

  // connections and login links
  'connection.not_found': { status: 404, sysCode: '1005', message: 'No such connection in this tenant' },
  'tenant.not_live': { status: 409, sysCode: '1305', message: 'The tenant is not live (created or active)' },
  'tenant.deleted': { status: 409, sysCode: '1306', message: 'The tenant is deleted' },
  'product.no_sign_in_url': { status: 409, sysCode: '1204', message: 'The product has no signInUrl for login links to lead to' },

  // resellers
  'reseller.not_found': { status: 404, sysCode: '1005', message: 'No such reseller' },
  'reseller.code_taken': { status: 409, sysCode: '1481', message: 'A reseller with this code exists already' },

  // tenant health
  'health.not_watched': {
    status: 409,
    sysCode: '1601',
    message: 'The tenant is not live (created or active), so its health is not probed',
  },
  'health.paused': { status: 409, sysCode: '1602', message: 'Health probing is paused for this tenant or its product' },
  'health.probe_in_progress': { status: 409, sysCode: '1603', message: 'The tenant is being probed right now; try again in a moment' },

  // identity: sessions, OIDC clients, SAML service providers and certificates
  'session.not_found': { status: 404, sysCode: '1005', message: 'No such session of this user' },
  'oidc_client.not_found': { status: 404, sysCode: '1005', message: 'No such OIDC client' },
  'saml_provider.not_found': { status: 404, sysCode: '1005', message: 'No such SAML service provider' },
  'saml_provider.entity_id_taken': {
    status: 409,
    sysCode: '1701',
    message: 'The product has a service provider with this entity id already',
  },
  'access_token.invalid': { status: 401, sysCode: '1702', message: 'The access token is not valid for this product, expired or altered' },

  // commerce: subscriptions, invoices, payments, commerce clocks (ADR 0008)
  'subscription.not_found': { status: 404, sysCode: '1005', message: 'The tenant has no subscription' },
  'subscription.exists': { status: 409, sysCode: '1801', message: 'The tenant has a live subscription already' },
  'subscription.not_live': { status: 409, sysCode: '1802', message: 'The subscription is canceled or expired' },
  'subscription.not_trialing': { status: 409, sysCode: '1803', message: 'The subscription is not in its trial' },
  'subscription.invalid_price': { status: 422, sysCode: '1804', message: "The price is not a plan price of the tenant's product" },
  'subscription.no_cancellation': { status: 409, sysCode: '1805', message: 'No cancellation is scheduled' },
  'invoice.not_found': { status: 404, sysCode: '1005', message: 'No such invoice' },
  'invoice.not_draft': { status: 409, sysCode: '1811', message: 'Only a draft invoice can be finalized' },
  'invoice.not_open': { status: 409, sysCode: '1812', message: 'The invoice is not open' },
  'payment.exceeds_balance': { status: 422, sysCode: '1813', message: 'The payment is more than the invoice still owes' },
  'payment.currency_mismatch': { status: 422, sysCode: '1814', message: 'The payment is in another currency than the invoice' },
  'payment.reference_taken': { status: 409, sysCode: '1815', message: 'This provider reference was recorded for another payment' },
  'clock.not_sandbox': { status: 409, sysCode: '1821', message: 'Only a sandbox product has a commerce clock to move' },
  'clock.backwards': { status: 422, sysCode: '1822', message: 'A commerce clock only moves forward' },
  // usage metering: outcomes of single events (in a 200) and errors of the usage routes
  'usage.conflict': { status: 409, sysCode: '1851', message: 'An event with this id and a different body was stored already' },
  'usage.no_subscription': { status: 422, sysCode: '1852', message: 'The tenant had no live subscription at that time' },
  'usage.feature_not_in_plan': { status: 422, sysCode: '1853', message: 'The tenant’s plan did not include the feature at that time' },
  'usage.window_closed': { status: 422, sysCode: '1854', message: 'The event’s window closed (its grace period is over)' },
  'usage.in_future': { status: 422, sysCode: '1855', message: 'The event’s timestamp is too far in the future' },
  'usage.tenant_not_found': { status: 422, sysCode: '1856', message: 'No such tenant in this product' },

  // Roomle tenant API and promo codes (ADR 0013)
  'roomle.not_enabled': { status: 422, sysCode: '2101', message: 'The product does not serve the Roomle API' },
  'roomle.not_managed': {
    status: 501,
    sysCode: '2102',
    message: 'Roomle product data (catalogs, configurators, asset processings, tags) is not managed by Landlord',
  },
  'roomle.delete_not_supported': {
    status: 405,
    sysCode: '2103',
    message: 'Deleting a tenant through the Roomle API is not possible; operators delete tenants with the native API',
  },
  'roomle.no_payment_provider': {
    status: 501,
    sysCode: '2104',
    message: 'No payment provider is configured, so there is no billing-portal session to open',
  },
  'roomle.no_billing_portal': {
    status: 501,
    sysCode: '2106',
    message: 'The product’s payment provider has no portal-session URL: Landlord cannot open billing-portal sessions with it',
  },
  'billing_profile.not_found': { status: 404, sysCode: '1005', message: 'The tenant has no billing information yet' },
  'billing_profile.exists': { status: 409, sysCode: '2105', message: 'The tenant has billing information already: change it with PUT' },
  'payment_connection.not_found': { status: 404, sysCode: '1005', message: 'The tenant has no connection to this payment provider store' },
  'promo_code.not_found': { status: 404, sysCode: '1005', message: 'No such promo code' },
  'promo_code.code_taken': { status: 409, sysCode: '2110', message: 'The product has a promo code with this code already' },
  'promo_code.inactive': { status: 422, sysCode: '2111', message: 'The promo code is not active' },
  'promo_code.not_yet_valid': { status: 422, sysCode: '2112', message: 'The promo code is not valid yet' },
  'promo_code.expired': { status: 422, sysCode: '2113', message: 'The promo code has expired' },
  'promo_code.exhausted': { status: 422, sysCode: '2114', message: 'The promo code has been redeemed as often as it may be' },
  'promo_code.already_used': { status: 409, sysCode: '2115', message: 'This tenant has used the promo code already' },
  'promo_code.subscription_exists': {
    status: 409,
    sysCode: '2116',
    message: 'The tenant has a live subscription: redeem the promo code once it has ended, or change its plan with a plan change',
  },

  // calls and billing: plan changes, bills, recurring bills (ADR 0009)
  'plan_change.not_found': { status: 404, sysCode: '1005', message: 'No such plan change' },
  'plan_change.invalid_price': { status: 422, sysCode: '1901', message: "The price is not a published plan price of the tenant's product" },
  'plan_change.same_price': { status: 422, sysCode: '1902', message: 'The subscription is on this price already' },
  'plan_change.currency_mismatch': { status: 422, sysCode: '1903', message: "The price's currency is not the subscription's" },
  'plan_change.cycle_not_supported': {
    status: 422,
    sysCode: '1904',
    message: 'A price paid once (unlimited) cannot be changed to or from',
  },
  'plan_change.in_flight': { status: 409, sysCode: '1905', message: 'The subscription has a plan change in flight already' },
  'plan_change.backend_url_missing': { status: 409, sysCode: '1906', message: 'The product has no backend URL for this kind of change' },
  'plan_change.not_in_flight': { status: 409, sysCode: '1907', message: 'No plan change of this kind is waiting for a report' },
  'plan_change.not_started': { status: 409, sysCode: '1908', message: 'The subscription has not started yet' },
  'plan_change.cancel_scheduled': {
    status: 409,
    sysCode: '1909',
    message: 'The subscription ends at its period end: nothing to change then',
  },
  'bill.not_found': { status: 404, sysCode: '1005', message: 'No such bill' },
  'bill.invoiced': { status: 409, sysCode: '1911', message: 'The bill is on an invoice already: it can no longer be cancelled' },
  'recurring_bill.not_found': { status: 404, sysCode: '1005', message: 'No such recurring bill' },
  'recurring_bill.expired': { status: 409, sysCode: '1912', message: 'The recurring bill has made all its cycles' },
  'recurring_bill.invalid_frequency': { status: 422, sysCode: '1913', message: 'The period and frequency do not go together' },
  // console
  'console.forbidden_origin': { status: 403, sysCode: '1950', message: 'The form did not come from this console (Origin or CSRF token)' },
  'console.confirmation_required': {
    status: 422,
    sysCode: '1951',
    message: 'Type the name of the object to confirm this action',
  },
  'event.not_found': { status: 404, sysCode: '1005', message: 'No such event' },
  'console.link_invalid': { status: 401, sysCode: '1952', message: 'The console link is unknown, used or expired' },
  'payment_provider.not_found': { status: 404, sysCode: '1005', message: 'The product has no payment provider' },
  // roomle: the provider's billing-portal session (issue #14)
  'payment_provider.failed': { status: 502, sysCode: '2107', message: 'The payment provider did not open a billing-portal session' },
  'payment_event.invalid_signature': {
    status: 401,
    sysCode: '1914',
    message: "The event's signature does not check out with the product's provider secret",
  },
  // marketplaces (maestrano)
  'marketplace.not_found': { status: 404, sysCode: '1005', message: 'No such marketplace' },
  'marketplace.name_taken': { status: 409, sysCode: '2201', message: 'The product has a marketplace with this name already' },
  'group.not_found': { status: 404, sysCode: '1005', message: 'No such group in this marketplace' },
  'group.deleted': { status: 409, sysCode: '2202', message: 'The group is deleted' },

  // server
  'server.internal': { status: 500, sysCode: '1500', message: 'Something went wrong on our side; the request id names it in our logs' },
  'server.unavailable': { status: 503, sysCode: '1503', message: 'Landlord cannot reach its database right now' },
} as const satisfies Record<string, { status: number; sysCode: string; message: string }>;

/** A stable error code, e.g. `tenant.not_found`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The OAuth 2.0 endpoints of the vendors whose users authorize flux with the authorization-code
 * flow and a refresh token, and the scopes flux's operations of each connector need. Connector
 * specs point here (`oauth: googleOAuth([...])`), so a connection's `oauth2` block and
 * `flux connect` need not repeat them. URLs are from the vendors' API descriptions
 * (schemas/vendor-specs/, securitySchemes) where they give them, else the vendors' OAuth docs.
 */
import type { OAuthEndpoints } from '../spec.js';

/**
 * Google (Calendar, Gmail, Chat, Drive). Google issues a refresh token only when asked for
 * offline access, and again for a user who authorized before only with `prompt=consent`.
 */
export function googleOAuth(scopes: readonly string[]): OAuthEndpoints {
  return {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    scopes: scopes.map((s) => `https://www.googleapis.com/auth/${s}`),
    authorizeParams: { access_type: 'offline', prompt: 'consent' },
  };
}

/** Xero: a refresh token only with the `offline_access` scope; Xero rotates refresh tokens. */
export const XERO_OAUTH: OAuthEndpoints = {
  authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
  tokenUrl: 'https://identity.xero.com/connect/token',
  scopes: ['offline_access', 'accounting.contacts', 'accounting.transactions'],
};

/** Box: scopes are set on the app in Box's developer console; Box rotates refresh tokens. */
export const BOX_OAUTH: OAuthEndpoints = {
  authorizeUrl: 'https://account.box.com/api/oauth2/authorize',
  tokenUrl: 'https://api.box.com/oauth2/token',
  scopes: [],
};

/**
 * PayPal: the REST APIs take client credentials (an app's client id and secret, no user),
 * sent to the token endpoint in an HTTP Basic header, which PayPal requires.
 */
export const PAYPAL_OAUTH: OAuthEndpoints = {
  tokenUrl: 'https://api-m.paypal.com/v1/oauth2/token',
  clientAuth: 'basic',
  scopes: [],
};

/** HubSpot public apps: CRM object scopes for contacts and deals. */
export const HUBSPOT_OAUTH: OAuthEndpoints = {
  authorizeUrl: 'https://app.hubspot.com/oauth/authorize',
  tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
  scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read', 'crm.objects.deals.write'],
};

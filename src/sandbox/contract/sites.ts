/**
 * Every vendor the contract sandbox plays, one site per API host. A connection reaches one with
 * `base_url: <sandbox>/<prefix>` followed by the path of the connector's default base URL
 * (`<sandbox>/slack/api`, `<sandbox>/xero/api.xro/2.0`); `vendorBaseUrl` works it out.
 */
import { connectorSpecs } from '../../connectors/index.js';
import { boxSite } from './box.js';
import { discordSite } from './discord.js';
import { gmailSite, googleChatSite, googleSite } from './google.js';
import { hubspotSite } from './hubspot.js';
import { intercomSite } from './intercom.js';
import { resendSite, sendgridSite } from './mail.js';
import { notionSite } from './notion.js';
import { paypalSite } from './paypal.js';
import type { VendorSite } from './site.js';
import { slackSite } from './slack.js';
import { squareSite } from './square.js';
import { stripeSite } from './stripe.js';
import { xeroSite } from './xero.js';

export const vendorSites: readonly VendorSite[] = [
  boxSite, discordSite, gmailSite, googleSite, googleChatSite, hubspotSite, intercomSite, notionSite, paypalSite, resendSite, sendgridSite, slackSite, squareSite, stripeSite, xeroSite,
];

/** The base URL a connection of connector `name` takes to reach the sandbox at `sandboxUrl`. */
export function vendorBaseUrl(sandboxUrl: string, name: string): string {
  const site = vendorSites.find((s) => s.connectors.includes(name));
  const spec = connectorSpecs[name];
  if (!site || !spec?.baseUrl) throw new Error(`the sandbox does not play connector ${name}`);
  return `${sandboxUrl}/${site.prefix}${new URL(spec.baseUrl).pathname.replace(/\/$/, '')}`;
}

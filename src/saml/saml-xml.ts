import { inflateRawSync } from 'node:zlib';
import { DOMImplementation, DOMParser, type Document, type Element, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { certificateBody } from './certificates.ts';

/** SAML 2.0 namespaces and the URIs this identity provider uses. */
export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;
export const NAME_ID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const PASSWORD_CLASS = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const ATTRIBUTE_NAME_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** An AuthnRequest that could not be read: the message is safe to show. */
export class SamlRequestError extends Error {
  override name = 'SamlRequestError';
}

/** What Landlord reads from an SP's AuthnRequest. */
export interface AuthnRequest {
  id: string;
  issuer: string;
  issueInstant: Date;
  acsUrl: string | undefined;
  nameIdFormat: string | undefined;
}

function parseXml(xml: string): Document {
  if (/<!DOCTYPE/i.test(xml)) throw new SamlRequestError('The request carries a document type declaration');
  const parser = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== 'warning') throw new SamlRequestError(`The request is not well-formed XML (${message.split('\n')[0]})`);
    },
  });
  return parser.parseFromString(xml, 'text/xml');
}

// SAML ids are xs:ID (an NCName); this one is stored and echoed back as InResponseTo.
const NCNAME = /^[A-Za-z_][\w.-]{0,255}$/;

/**
 * Reads an AuthnRequest sent with the HTTP-Redirect binding (deflated, base64): its id,
 * issuer, issue instant, ACS URL and NameID format. Anything else (not deflate, not XML,
 * not an AuthnRequest, a DOCTYPE, no id or issuer, SAML other than 2.0) is refused.
 */
export function readRedirectAuthnRequest(samlRequest: string): AuthnRequest {
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: 64 * 1024 }).toString('utf8');
  } catch {
    throw new SamlRequestError('SAMLRequest is not a deflated, base64-encoded message');
  }
  const root = parseXml(xml).documentElement;
  if (root?.localName !== 'AuthnRequest' || root.namespaceURI !== NS.protocol)
    throw new SamlRequestError('The message is not a SAML 2.0 AuthnRequest');
  if (root.getAttribute('Version') !== '2.0') throw new SamlRequestError('Only SAML 2.0 requests are accepted');
  const id = root.getAttribute('ID') ?? '';
  if (!NCNAME.test(id)) throw new SamlRequestError('The request has no valid ID');
  const issueInstant = new Date(root.getAttribute('IssueInstant') ?? '');
  if (Number.isNaN(issueInstant.getTime())) throw new SamlRequestError('The request has no valid IssueInstant');
  const issuer = Array.from(root.getElementsByTagNameNS(NS.assertion, 'Issuer')).find((node) => node.parentNode === root);
  const issuerText = issuer?.textContent?.trim();
  if (!issuerText) throw new SamlRequestError('The request names no Issuer');
  const policy = root.getElementsByTagNameNS(NS.protocol, 'NameIDPolicy')[0];
  return {
    id,
    issuer: issuerText,
    issueInstant,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') || undefined,
    nameIdFormat: policy?.getAttribute('Format') || undefined,
  };
}

/** One attribute of an assertion: a name and its values (several for a multi-valued one). */
export interface SamlAttribute {
  name: string;
  values: string[];
}

/** Everything a response says. */
export interface ResponseInput {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  inResponseTo?: string;
  nameId: { value: string; format: string };
  sessionIndex: string;
  authnInstant: Date;
  attributes: SamlAttribute[];
  now: Date;
  /** How long the assertion may be used (NotOnOrAfter − now). */
  validitySeconds: number;
  signResponse: boolean;
  certificatePem: string;
  privateKeyPem: string;
}

const samlId = () => `_${crypto.randomUUID().replace(/-/g, '')}`;
const instant = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Builds a SAML Response as a DOM (so every value is escaped by the serializer, never by
 * hand) and signs it with xml-crypto: the Assertion always (RSA-SHA256, exclusive C14N,
 * the certificate in KeyInfo), the Response too when `signResponse`. Returns the XML.
 */
export function buildSignedResponse(input: ResponseInput): string {
  const doc = new DOMImplementation().createDocument(NS.protocol, 'samlp:Response', null);
  const response = doc.documentElement as Element;
  const element = (parent: Element, ns: string, name: string, attributes: Record<string, string | undefined> = {}, text?: string) => {
    const child = doc.createElementNS(ns, name);
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) child.setAttribute(key, value);
    if (text !== undefined) child.appendChild(doc.createTextNode(text));
    parent.appendChild(child);
    return child;
  };
  const notOnOrAfter = instant(new Date(input.now.getTime() + input.validitySeconds * 1000));
  const notBefore = instant(new Date(input.now.getTime() - 30_000));
  response.setAttribute('xmlns:saml', NS.assertion);
  for (const [key, value] of Object.entries({
    ID: samlId(),
    Version: '2.0',
    IssueInstant: instant(input.now),
    Destination: input.acsUrl,
    InResponseTo: input.inResponseTo,
  })) {
    if (value !== undefined) response.setAttribute(key, value);
  }
  element(response, NS.assertion, 'saml:Issuer', {}, input.idpEntityId);
  element(element(response, NS.protocol, 'samlp:Status'), NS.protocol, 'samlp:StatusCode', { Value: SUCCESS });

  const assertion = element(response, NS.assertion, 'saml:Assertion', { ID: samlId(), Version: '2.0', IssueInstant: instant(input.now) });
  element(assertion, NS.assertion, 'saml:Issuer', {}, input.idpEntityId);
  const subject = element(assertion, NS.assertion, 'saml:Subject');
  element(subject, NS.assertion, 'saml:NameID', { Format: input.nameId.format }, input.nameId.value);
  const confirmation = element(subject, NS.assertion, 'saml:SubjectConfirmation', { Method: BEARER });
  element(confirmation, NS.assertion, 'saml:SubjectConfirmationData', {
    NotOnOrAfter: notOnOrAfter,
    Recipient: input.acsUrl,
    InResponseTo: input.inResponseTo,
  });
  const conditions = element(assertion, NS.assertion, 'saml:Conditions', { NotBefore: notBefore, NotOnOrAfter: notOnOrAfter });
  element(element(conditions, NS.assertion, 'saml:AudienceRestriction'), NS.assertion, 'saml:Audience', {}, input.spEntityId);
  const authn = element(assertion, NS.assertion, 'saml:AuthnStatement', {
    AuthnInstant: instant(input.authnInstant),
    SessionIndex: input.sessionIndex,
    SessionNotOnOrAfter: undefined,
  });
  element(element(authn, NS.assertion, 'saml:AuthnContext'), NS.assertion, 'saml:AuthnContextClassRef', {}, PASSWORD_CLASS);
  if (input.attributes.length) {
    const statement = element(assertion, NS.assertion, 'saml:AttributeStatement');
    for (const attribute of input.attributes) {
      const node = element(statement, NS.assertion, 'saml:Attribute', { Name: attribute.name, NameFormat: ATTRIBUTE_NAME_FORMAT });
      for (const value of attribute.values) element(node, NS.assertion, 'saml:AttributeValue', {}, value);
    }
  }

  const xml = new XMLSerializer().serializeToString(doc);
  const signedAssertion = sign(xml, input, "//*[local-name(.)='Assertion']", "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']");
  return input.signResponse
    ? sign(signedAssertion, input, "/*[local-name(.)='Response']", "/*[local-name(.)='Response']/*[local-name(.)='Issuer']")
    : signedAssertion;
}

function sign(xml: string, key: { privateKeyPem: string; certificatePem: string }, reference: string, after: string): string {
  const signer = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({ xpath: reference, digestAlgorithm: SHA256, transforms: [ENVELOPED, EXC_C14N] });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: after, action: 'after' } });
  return signer.getSignedXml();
}

/** The IdP metadata: entity id, the signing certificates, the NameID formats and the SSO endpoint (HTTP-Redirect). */
export function buildIdpMetadata(input: { entityId: string; ssoUrl: string; certificates: string[] }): string {
  const doc = new DOMImplementation().createDocument(NS.metadata, 'md:EntityDescriptor', null);
  const root = doc.documentElement as Element;
  root.setAttribute('entityID', input.entityId);
  root.setAttribute('xmlns:ds', NS.dsig);
  const add = (parent: Element, ns: string, name: string, attributes: Record<string, string> = {}, text?: string) => {
    const child = doc.createElementNS(ns, name);
    for (const [key, value] of Object.entries(attributes)) child.setAttribute(key, value);
    if (text !== undefined) child.appendChild(doc.createTextNode(text));
    parent.appendChild(child);
    return child;
  };
  const idp = add(root, NS.metadata, 'md:IDPSSODescriptor', { WantAuthnRequestsSigned: 'false', protocolSupportEnumeration: NS.protocol });
  for (const pem of input.certificates) {
    const keyInfo = add(add(idp, NS.metadata, 'md:KeyDescriptor', { use: 'signing' }), NS.dsig, 'ds:KeyInfo');
    add(add(keyInfo, NS.dsig, 'ds:X509Data'), NS.dsig, 'ds:X509Certificate', {}, certificateBody(pem));
  }
  for (const format of Object.values(NAME_ID_FORMATS)) add(idp, NS.metadata, 'md:NameIDFormat', {}, format);
  add(idp, NS.metadata, 'md:SingleSignOnService', { Binding: REDIRECT_BINDING, Location: input.ssoUrl });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(doc)}`;
}

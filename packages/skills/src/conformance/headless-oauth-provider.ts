import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * An OAuth client for machines (the conformance client, tests): keeps everything in memory and
 * "redirects the user" by fetching the authorization URL itself and taking the code from the
 * `Location` header. A real host shows the URL to a person and receives the code on its callback.
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  readonly #redirectUrl: string;
  readonly #metadata: OAuthClientMetadata;
  readonly clientMetadataUrl: string | undefined;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  #code: string | undefined;

  constructor(options: {
    clientName: string;
    redirectUrl?: string;
    clientMetadataUrl?: string;
    client?: OAuthClientInformationMixed;
  }) {
    this.#redirectUrl = options.redirectUrl ?? 'http://localhost:3000/callback';
    this.#metadata = {
      client_name: options.clientName,
      redirect_uris: [this.#redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    };
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#client = options.client;
  }

  get redirectUrl(): string {
    return this.#redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.#client = information;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    const code = location ? new URL(location).searchParams.get('code') : null;
    if (!code)
      throw new Error(
        `The authorization server answered ${response.status} without a code (${location ?? 'no Location'})`,
      );
    this.#code = code;
  }

  /** The code of the last redirect (what a real callback would receive). */
  async authorizationCode(): Promise<string> {
    const code = this.#code;
    this.#code = undefined;
    if (!code) throw new Error('No authorization code: the provider was never redirected');
    return code;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('No PKCE code verifier saved');
    return this.#verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }
}

/** The errors a run can die of, turned into advice for the person who reads the failed step. */
import { OidcError, presentedClaims } from '../azure/sign-in.js';
import { InputError } from '../plan/inputs.js';

/** Anything thrown, as text: not every throw is an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

export function explainFailure(error: unknown): string {
  if (error instanceof InputError || error instanceof OidcError) return error.message;
  const message = errorMessage(error);
  if (/AADSTS70021|AADSTS700213|No matching federated identity/i.test(message)) {
    const claims = presentedClaims();
    return `Azure refused the GitHub OIDC token: no federated credential of the app matches it${claims ? ` (${claims})` : ''}. Add a federated credential with exactly that subject. ${message}`;
  }
  if (/AADSTS7000215|invalid client secret/i.test(message))
    return `Azure refused the client secret (wrong or expired). ${message}`;
  if (/AuthorizationFailed/.test(message))
    return `Resource Graph or Compute refused the identity: ${message}`;
  return message;
}

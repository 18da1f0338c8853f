/**
 * Azure nests the code that decides a VM's outcome (`ResourceOperationFailure` →
 * `details: [{ code: 'AllocationFailed' }]`), and the SDK reads only the top of the body:
 * - a refused request becomes a RestError from `error.code` and `error.message` alone
 *   (@typespec/ts-http-runtime `createRestError`; arm-compute's LRO helper adds no `details`);
 * - a failed long-running operation becomes "The long-running operation has failed. <code>.
 *   <message>", where core-lro (3.3, poller/operation.ts `simplifyError`) follows `innererror`
 *   links but never `details[]`, and the poller keeps nothing else of the body.
 * So this pipeline policy puts the innermost decisive code (errors.ts `innermostKnownError`) where
 * each reads: for a refused request in `error.code` (the outer code and message stay in the
 * message), for a failed operation status as `error.innererror`. Bodies without a nested
 * decisive code pass untouched.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { innermostKnownError, withOuter } from './errors.js';

type ErrorBody = { status?: unknown; error?: { code?: string; message?: string } & Record<string, unknown> };

export const surfaceNestedErrors: PipelinePolicy = {
  name: 'surfaceNestedErrors',
  async sendRequest(request, next) {
    const response = await next(request);
    const text = response.bodyAsText;
    if (!text || !text.includes('"error"')) return response;
    const failedOperation = request.method === 'GET' && response.status === 200;
    if (!failedOperation && response.status < 400) return response;
    let body: ErrorBody;
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      return response;
    }
    const error = body?.error;
    if (!error || typeof error !== 'object') return response;
    if (failedOperation && body.status !== 'Failed') return response;
    const inner = innermostKnownError(error);
    if (!inner || inner.code === error.code) return response;
    body.error = failedOperation
      ? { ...error, innererror: { code: inner.code, message: inner.message } }
      : { ...error, ...withOuter(inner, error) };
    response.bodyAsText = JSON.stringify(body);
    return response;
  }
};

/**
 * Azure's error bodies, in ARM's shape `{"error":{"code","message","details"}}` (common-types
 * ErrorResponse, specification/common-types/resource-management/v5/types.json). The messages are
 * the ones Compute returns for these codes. Shared by the emulator and the unit tests, so both
 * speak with the same words.
 */
export interface ArmError {
  status: number;
  body: {
    error: { code: string; message: string; details?: unknown[]; target?: string; innererror?: unknown };
  };
}

/**
 * How a failed start operation reports an allocation failure: the operation's own code,
 * `ResourceOperationFailure`, with the allocation code nested inside — in `details[]` (the shape of
 * Azure/azure-cli#2401 and of the zonal error quoted in MicrosoftDocs/azure-docs#41402), or in an
 * `innererror` chain (the Azure REST API guidelines' shape, which core-lro's LroError models).
 * Compute's ApiError allows both (specification/compute/resource-manager/Microsoft.Compute/
 * common-types/v1/common.json: `details`, `innererror`).
 */
const OPERATION_FAILED = "The resource operation completed with terminal provisioning state 'Failed'.";
function nestedInDetails(inner: ArmError): ArmError {
  const { code, message } = inner.body.error;
  return {
    status: 200,
    body: {
      error: { code: 'ResourceOperationFailure', message: OPERATION_FAILED, details: [{ code, message }] }
    }
  };
}
function nestedInInnerError(inner: ArmError): ArmError {
  const { code, message } = inner.body.error;
  return {
    status: 200,
    body: {
      error: { code: 'ResourceOperationFailure', message: OPERATION_FAILED, innererror: { code, message } }
    }
  };
}

const armError = (status: number, code: string, message: string): ArmError => ({
  status,
  body: { error: { code, message, details: [] } }
});

export const azureErrors = {
  allocationFailed: () =>
    armError(
      200,
      'AllocationFailed',
      'Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance'
    ),
  zonalAllocationFailed: () =>
    armError(
      200,
      'ZonalAllocationFailed',
      'Allocation failed. We do not have sufficient capacity for the requested VM size in this zone. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance'
    ),
  overconstrained: (zonal = false) =>
    armError(
      200,
      zonal ? 'OverconstrainedZonalAllocationRequest' : 'OverconstrainedAllocationRequest',
      'Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive. Please remove some constraints and try again. Constraints applied are: Priority (Spot).'
    ),
  /** The start operation's failure for want of capacity, nested as Azure nests it. */
  startAllocationFailed: (zonal: boolean) =>
    zonal
      ? nestedInInnerError(azureErrors.zonalAllocationFailed())
      : nestedInDetails(azureErrors.allocationFailed()),
  skuNotAvailable: (vmName: string, size: string, location: string, subscriptionId: string) =>
    armError(
      409,
      'SkuNotAvailable',
      `The requested VM size '${size}' for resource '${vmName}' is currently not available in location '${location}' for subscription '${subscriptionId}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.`
    ),
  priceAboveMax: (maxPrice: number, currentPrice: number, size: string, location: string) =>
    armError(
      409,
      'SpotPriceGreaterThanProvidedMaxPrice',
      `Unable to perform operation 'Start VM' since the provided max price '${maxPrice} USD' is lower than the current spot price '${currentPrice} USD' for Azure Spot VM size '${size}' in region '${location}'. Please refer to http://aka.ms/AzureSpot/errormessages for more details.`
    ),
  quotaExceeded: (location: string, limit: number, usage: number, required: number) =>
    armError(
      409,
      'OperationNotAllowed',
      `Operation could not be completed as it results in exceeding approved Low Priority Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${location}, Current Limit: ${limit}, Current Usage: ${usage}, Additional Required: ${required}, (Minimum) New Limit Required: ${usage + required}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView.`
    ),
  operationInProgress: (vmName: string, operation: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `Operation 'start' is not allowed on VM '${vmName}' since the VM is marked for '${operation}'. Retry after the current operation completes.`
    ),
  /**
   * Refusals no retry changes, for one size. Spot: the key AzureSpotIsNotSupportedForThisVMSize and
   * its message ("Error messages for Azure Spot Virtual Machines and scale sets"); Azure sends the
   * keys' messages under `OperationNotAllowed` with 409 (Azure/azure-cli#13974 for "Max price change
   * is not allowed."), so the wire code here is inferred. Temp disk: observed text and code
   * (Azure/SAP-on-Azure-Scripts-and-Utilities#130; FAQ "Azure VM sizes with no local temporary disk").
   */
  spotNotSupportedForSize: (size: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `Azure Spot Virtual Machine is not supported for this VM size ${size}. For more information, see http://aka.ms/AzureSpot/errormessages`
    ),
  tempDiskBoundary: (vmName: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `Unable to resize the VM '${vmName}' since changing from resource disk to non-resource disk VM size and vice-versa is not allowed. Please refer to https://aka.ms/AAah4sj for more details.`
    ),
  /** MaxPriceValueInvalid's message (Spot error page); how Azure answers more than five decimals is not published. */
  maxPriceInvalid: () =>
    armError(
      400,
      'InvalidParameter',
      'Invalid max price value. The only supported values for max price are -1 or a decimal greater than zero, with up to 5 decimal places. For more information, see http://aka.ms/AzureSpot/errormessages'
    ),
  /** An update's max price not above the current price (BillingProfile: "will only succeed if the maxPrice is greater than the current Azure Spot price"). */
  updatePriceNotAboveCurrent: (maxPrice: number, currentPrice: number, size: string) =>
    armError(
      409,
      'SpotPriceGreaterThanProvidedMaxPrice',
      `Unable to perform operation 'Update VM' since the provided max price '${maxPrice} USD' is lower than the current spot price '${currentPrice} USD' for Azure Spot Virtual Machine size '${size}'. For more information, see http://aka.ms/AzureSpot/errormessages`
    ),
  operationNotAllowedWhileRunning: (vmName: string, operation: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `The ${operation} of VM '${vmName}' is only allowed while it is deallocated. Deallocate it first.`
    ),
  notFound: (resourceGroup: string, vmName: string) =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.Compute/virtualMachines/${vmName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
    ),
  authorizationFailed: (objectId: string, action: string, scope: string) =>
    armError(
      403,
      'AuthorizationFailed',
      `The client '${objectId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
    ),
  throttled: () =>
    armError(
      429,
      'TooManyRequests',
      "The request is being throttled as the limit has been reached for operation type - 'Write'. For more information, see - https://aka.ms/armthrottling"
    ),
  /**
   * Compute's own throttling answer (Microsoft Learn, "Troubleshooting throttling errors in Azure -
   * Virtual Machines": OperationNotAllowed with a TooManyRequests detail naming the policy).
   */
  computeThrottled: (
    policy: string,
    allowed: number,
    measured: number,
    startTime: string,
    endTime: string
  ) => ({
    status: 429,
    body: {
      error: {
        code: 'OperationNotAllowed',
        message:
          'The server rejected the request because too many requests have been received for this subscription.',
        details: [
          {
            code: 'TooManyRequests',
            target: policy,
            message: JSON.stringify({
              operationGroup: policy,
              startTime,
              endTime,
              allowedRequestCount: allowed,
              measuredRequestCount: measured
            })
          }
        ]
      }
    }
  }),
  internal: () =>
    armError(500, 'InternalServerError', 'An unexpected error occured while processing the request.'),
  expiredToken: () =>
    armError(
      401,
      'ExpiredAuthenticationToken',
      'The access token expiry UTC time is earlier than current UTC time.'
    )
};

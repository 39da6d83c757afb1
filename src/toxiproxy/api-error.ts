/**
 * The API's error catalogue (spec §2.4): each error carries its HTTP status and the exact
 * `error` text Toxiproxy v2.12.0 sends, because clients (the Go client, CLIs, people reading
 * logs) show that text.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const badRequestBody = (detail: string): ApiError => new ApiError(`bad request body: ${detail}`, 400);
export const missingField = (field: string): ApiError =>
  new ApiError(`missing required field: ${field}`, 400);
export const proxyNotFound = (): ApiError => new ApiError('proxy not found', 404);
export const proxyAlreadyExists = (): ApiError => new ApiError('proxy already exists', 409);
export const invalidStream = (): ApiError =>
  new ApiError('stream was invalid, can be either upstream or downstream', 400);
export const invalidToxicType = (): ApiError => new ApiError('invalid toxic type', 400);
/** Our UDP extension: a toxic type with no datagram meaning (bandwidth, slicer, …) on a UDP proxy. */
export const toxicTypeNotForUdp = (type: string): ApiError =>
  new ApiError(`toxic type ${type} is not supported on udp proxies`, 400);
/** Our UDP extension: `protocol` other than tcp/udp, or a change of it on an existing proxy. */
export const invalidProtocol = (detail: string): ApiError => new ApiError(detail, 400);
export const toxicAlreadyExists = (): ApiError => new ApiError('toxic already exists', 409);
export const toxicNotFound = (): ApiError => new ApiError('toxic not found', 404);
/** Socket, bind and resolve failures: Go passes its own error text through as a 500. */
export const internalError = (message: string): ApiError => new ApiError(message, 500);

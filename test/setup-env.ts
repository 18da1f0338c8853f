/**
 * Every test file: no request leaves this machine, and nothing probes the real IMDS address.
 * nock refuses unmatched hosts; loopback stays open for the emulator.
 */
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect(host => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
// The managed-identity probe of the credential chain goes here instead of 169.254.169.254.
process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = 'http://127.0.0.1:9';
process.env.IMDS_ENDPOINT = 'http://127.0.0.1:9';

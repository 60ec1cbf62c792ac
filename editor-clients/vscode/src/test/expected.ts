// What the tests expect of the settings, written once.

/** The server's user-only settings (x-userOnly in its schema), sorted. */
export const SERVER_USER_ONLY = [
  "enclave.backend.allowHosts",
  "enclave.backend.kind",
  "enclave.backend.model",
  "enclave.backend.url",
  "enclave.log.file",
  "enclave.model.path",
  "enclave.model.stateCacheOnDisk",
];

// The one loader of @peculiar/x509 lives on the ground floor, so the embedded cluster's serving
// certificate and the meshes' CAs share it.
export { loadX509, type X509 } from '../../core/index.js';

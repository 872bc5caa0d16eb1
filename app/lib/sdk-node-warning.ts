/**
 * Imported first by our entry points (`npm start`, the CLI, the benchmark): silences the AWS
 * SDK's NodeVersionSupportWarning, nine lines on stderr at the first client on Node 20 saying
 * that SDK releases after January 2027 will need Node 22. Pennyworth supports Node 20
 * (package.json engines; @pulumi/pulumi 3.249+ already needs 22, so the lock pins 3.248), and the
 * Lambda runs nodejs22.x, where the SDK never warns. Only this one warning: the variable is the
 * SDK's own switch for it, and a value someone set is kept.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export {}

// The SDK warns once per process that releases after January 2027 need Node.js 22; the lock file pins
// releases that support Node.js 20 (see README), so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

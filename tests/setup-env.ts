// The AWS SDK warns that its 2027 releases will need Node 22; our machines run Node 20
// (Lambda runs 24). The warning is known and documented, so it is kept out of test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

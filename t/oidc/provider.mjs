// A real OpenID provider for the test suite (npm oidc-provider, pinned by
// package-lock.json; scripts/test runs `npm ci` here and starts this).
//
//   node provider.mjs PORTFILE
//
// Listens on 127.0.0.1 on a free port (chosen by the kernel), writes
// "http://127.0.0.1:PORT" to PORTFILE once it is ready, and serves the
// standard endpoints with the package's development login and consent
// pages (any password; the login name is the account id).
//
// Test users: two fixed accounts (seed-verified, seed-unverified) and any
// account a test adds with POST /test/accounts {sub, email, email_verified,
// name} (loopback only; the suite needs fresh emails per run).
// Two clients: "leadcrm" (the httpd under test, redirect URI
// http://127.0.0.1:<any port>/auth/oidc/callback) and "leadcrm-other".
import http from 'node:http';
import fs from 'node:fs';
import Provider from 'oidc-provider';

const portFile = process.argv[2];
if (!portFile) {
    console.error('usage: node provider.mjs PORTFILE');
    process.exit(2);
}

const accounts = new Map([
    ['seed-verified', { email: 'seed.verified@example.net',
                        email_verified: true, name: 'Seed Verified' }],
    ['seed-unverified', { email: 'seed.unverified@example.net',
                          email_verified: false, name: 'Seed Unverified' }],
]);

let provider;

function readBody(req) {
    return new Promise((resolve, reject) => {
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (c) => { data += c; if (data.length > 65536) req.destroy(); });
        req.on('end', () => resolve(data));
        req.on('error', reject);
    });
}

async function testApi(req, res) {
    if (req.method === 'POST' && req.url === '/test/accounts') {
        const a = JSON.parse(await readBody(req));
        if (typeof a.sub !== 'string' || !a.sub) {
            res.writeHead(400).end('sub required');
            return;
        }
        accounts.set(a.sub, { email: a.email, email_verified: a.email_verified,
                              name: a.name });
        res.writeHead(204).end();
        return;
    }
    res.writeHead(404).end();
}

const server = http.createServer((req, res) => {
    if (req.url.startsWith('/test/')) {
        testApi(req, res).catch((e) => res.writeHead(400).end(String(e)));
        return;
    }
    provider.callback()(req, res);
});

server.listen(0, '127.0.0.1', () => {
    const issuer = `http://127.0.0.1:${server.address().port}`;
    const callback = ['http://127.0.0.1/auth/oidc/callback'];
    provider = new Provider(issuer, {
        clients: [
            { client_id: 'leadcrm', client_secret: 'leadcrm-test-client-secret-0123456789',
              redirect_uris: callback, response_types: ['code'],
              grant_types: ['authorization_code'],
              token_endpoint_auth_method: 'client_secret_basic' },
            { client_id: 'leadcrm-other', client_secret: 'leadcrm-other-client-secret-0123456789',
              redirect_uris: callback, response_types: ['code'],
              grant_types: ['authorization_code'],
              token_endpoint_auth_method: 'client_secret_basic' },
        ],
        claims: { openid: ['sub'], email: ['email', 'email_verified'],
                  profile: ['name'] },
        conformIdTokenClaims: false,
        cookies: { keys: ['leadcrm-test-cookie-key-not-secret'] },
        pkce: { required: () => true },
        features: { devInteractions: { enabled: true } },
        async findAccount(ctx, id) {
            const a = accounts.get(id);
            if (!a) return undefined;
            return {
                accountId: id,
                async claims() {
                    const c = { sub: id };
                    if (a.email !== undefined) c.email = a.email;
                    if (a.email_verified !== undefined) c.email_verified = a.email_verified;
                    if (a.name !== undefined) c.name = a.name;
                    return c;
                },
            };
        },
    });
    // the httpd under test listens on a port chosen at run time
    const allowed = /^http:\/\/127\.0\.0\.1:\d+\/auth\/oidc\/callback$/;
    const orig = provider.Client.prototype.redirectUriAllowed;
    provider.Client.prototype.redirectUriAllowed = function (uri) {
        return allowed.test(uri) || orig.call(this, uri);
    };
    provider.on('server_error', (ctx, err) => console.error('server_error', err));
    fs.writeFileSync(`${portFile}.tmp`, issuer);
    fs.renameSync(`${portFile}.tmp`, portFile);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));

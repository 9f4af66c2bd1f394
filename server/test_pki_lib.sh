# Certificates for the TLS shell tests, made at run time with the openssl CLI (no key is
# committed). Sourced from the runfiles root after setting $pki to an existing directory:
#
#   pki="$work/pki"; mkdir -p "$pki"; source "$PWD/server/test_pki_lib.sh"
#   ca main                                      # $pki/main-ca.pem, $pki/main-ca.key
#   leaf main server "DNS:localhost,IP:127.0.0.1"   # $pki/server.pem, $pki/server.key

# A self-signed P-256 CA named NAME, valid for 2 days.
ca() {  # ca NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1 CA" -keyout "$pki/$1-ca.key" -out "$pki/$1-ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
}

# A P-256 certificate NAME signed by CA, with subjectAltName SAN, valid for 1 day.
leaf() {  # leaf CA NAME SAN
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$pki/$2.key" -out "$pki/$2.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" > "$pki/$2.ext"
  openssl x509 -req -in "$pki/$2.csr" -CA "$pki/$1-ca.pem" -CAkey "$pki/$1-ca.key" \
    -CAcreateserial -days 1 -extfile "$pki/$2.ext" -out "$pki/$2.pem" 2>/dev/null
}

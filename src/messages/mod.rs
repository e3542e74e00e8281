//! HTTP messages: header helpers, status text, content sniffing, the HTTP/1 parser interface. (in progress)

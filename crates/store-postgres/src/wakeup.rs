//! LISTEN/NOTIFY wake-ups between nodes.
//!
//! Every node LISTENs on the store's channel on a dedicated connection (outside the pool). A
//! payload is `e:<execution ARN>` (an event was queued for the execution, or it changed) or
//! `a:<activity ARN>` (a task was scheduled for the activity). PostgreSQL delivers a
//! notification only when the transaction that sent it commits, so a woken node always finds
//! the rows that caused the wake-up.
//!
//! Notifications sent while the connection is down are lost. After reconnecting (with
//! back-off, for as long as the [`Subscription`] lives) it yields [`Wakeup::Resync`]: the
//! node must then sweep (`claim_runnable`, the activity queues) instead of trusting that it
//! missed nothing. The same happens if the node reads too slowly and the buffer fills.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use baton_store::cluster::Wakeup;
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// A stream of [`Wakeup`]s; dropping it closes its connection.
#[derive(Debug)]
pub struct Subscription {
    receiver: mpsc::Receiver<Wakeup>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscription {
    /// The next wake-up; `None` only if the listening task ended (it does not while the
    /// subscription lives, as it reconnects).
    pub async fn recv(&mut self) -> Option<Wakeup> {
        self.receiver.recv().await
    }
}

impl Stream for Subscription {
    type Item = Wakeup;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Wakeup>> {
        self.receiver.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const BUFFER: usize = 8192;

/// Connects, LISTENs, and returns once the LISTEN is in effect: every notification committed
/// after this returns is delivered.
pub(crate) async fn subscribe(
    config: Config,
    channel: String,
) -> Result<Subscription, tokio_postgres::Error> {
    let (sender, receiver) = mpsc::channel(BUFFER);
    let first = connect_and_listen(&config, &channel).await?;
    let task = tokio::spawn(async move {
        let mut listening = first;
        loop {
            pump(listening, &sender).await;
            if sender.is_closed() {
                return;
            }
            let mut delay = Duration::from_millis(10);
            listening = loop {
                match connect_and_listen(&config, &channel).await {
                    Ok(next) => break next,
                    Err(_) => {
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = sender.closed() => return,
                        }
                        delay = (delay * 2).min(Duration::from_secs(1));
                    }
                }
            };
            // Whatever was sent while disconnected is lost: tell the node to sweep. If the
            // buffer is full the node is behind anyway and a Resync is already implied below.
            let _ = sender.try_send(Wakeup::Resync);
        }
    });
    Ok(Subscription { receiver, task })
}

type Connection =
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>;

struct Listening {
    // Kept alive: dropping the client closes the connection.
    _client: tokio_postgres::Client,
    connection: Connection,
}

async fn connect_and_listen(
    config: &Config,
    channel: &str,
) -> Result<Listening, tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let sql = format!("LISTEN {channel}");
    {
        let listen = client.batch_execute(&sql);
        tokio::pin!(listen);
        // The connection must be driven for the LISTEN to complete.
        loop {
            tokio::select! {
                done = &mut listen => {
                    done?;
                    break;
                }
                message = std::future::poll_fn(|cx| connection.poll_message(cx)) => {
                    match message {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Err(error),
                        None => break,
                    }
                }
            }
        }
    }
    Ok(Listening {
        _client: client,
        connection,
    })
}

/// Forwards notifications until the connection ends or the subscription is dropped.
async fn pump(mut listening: Listening, sender: &mpsc::Sender<Wakeup>) {
    let mut lagged = false;
    loop {
        let message = tokio::select! {
            message = std::future::poll_fn(|cx| listening.connection.poll_message(cx)) => message,
            () = sender.closed() => return,
        };
        match message {
            Some(Ok(AsyncMessage::Notification(notification))) => {
                if lagged && sender.try_send(Wakeup::Resync).is_ok() {
                    lagged = false;
                }
                if sender
                    .try_send(Wakeup::parse(notification.payload()))
                    .is_err()
                {
                    lagged = true;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return,
        }
    }
}
